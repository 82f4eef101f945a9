import EventSourcing

/// The ingredients of a demo history, read from `Assets/demo`.
public struct DemoData: Sendable {
    /// A spending or income category with its typical amounts.
    public struct Category: Sendable {
        public var name: String
        public var minimum: Money
        public var maximum: Money
        public var weight: Int
    }

    public var people: [(id: AccountID, owner: OwnerName)]
    public var merchants: [(id: AccountID, owner: OwnerName, category: String)]
    public var categories: [Category]

    /// Parses the three tab-separated files (lines starting with `#` are comments).
    ///
    /// - Throws: ``InvalidInput`` naming the file and line that is wrong.
    public init(people: String, merchants: String, amounts: String) throws(InvalidInput) {
        func rows(_ text: String, _ file: String, columns: Int) throws(InvalidInput) -> [[String]] {
            var result: [[String]] = []
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if line.isEmpty || line.hasPrefix("#") { continue }
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                guard fields.count == columns else {
                    throw InvalidInput("\(file) line \(number + 1): expected \(columns) tab-separated fields")
                }
                result.append(fields)
            }
            return result
        }
        self.people = []
        for row in try rows(people, "people.tsv", columns: 2) {
            self.people.append((try AccountID(parsing: row[0]), try OwnerName(parsing: row[1])))
        }
        self.merchants = []
        for row in try rows(merchants, "merchants.tsv", columns: 3) {
            self.merchants.append((try AccountID(parsing: row[0]), try OwnerName(parsing: row[1]), row[2]))
        }
        self.categories = []
        for row in try rows(amounts, "amounts.tsv", columns: 4) {
            guard let weight = Int(row[3]), weight > 0 else { throw InvalidInput("amounts.tsv: bad weight \(row[3])") }
            self.categories.append(
                Category(
                    name: row[0], minimum: try Money.parseAmount(row[1]), maximum: try Money.parseAmount(row[2]),
                    weight: weight))
        }
        guard self.people.count >= 2, !self.merchants.isEmpty, !self.categories.isEmpty else {
            throw InvalidInput("demo data needs at least two people, one merchant and one category")
        }
    }
}

/// A small, fast, seedable random number generator (SplitMix64): the same seed always gives
/// the same history.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator from a seed.
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Generates a realistic, reproducible history: people open accounts, get paid, pay shops,
/// take cash, send each other money, and now and then close an account. Every command is
/// decided by the real ``Ledger`` rules as it is generated, so each one is accepted and each
/// produces exactly one event.
public struct DemoGenerator {
    private let data: DemoData
    private var random: SplitMix64
    private var state = Ledger.initialState
    private var time: Timestamp
    private var people: [(id: AccountID, owner: OwnerName)]
    private var openedPeople = 0
    private var openedMerchants = 0
    private var pendingClose: AccountID?
    private var closedPeople = 0
    private let weights: Int

    /// The moment the demo history starts: Monday 2026-11-02 08:00 UTC.
    public static let defaultStart = Timestamp(millisecondsSinceEpoch: 1_793_606_400_000)

    /// Creates a generator.
    ///
    /// - Parameters:
    ///   - accounts: how many people to open accounts for; past the names in the data, more
    ///     are made by numbering them (`alice-2`), for benchmark-sized histories.
    public init(data: DemoData, seed: UInt64, accounts: Int? = nil, start: Timestamp = DemoGenerator.defaultStart) {
        self.data = data
        self.random = SplitMix64(seed: seed)
        self.time = start
        let wanted = max(2, accounts ?? data.people.count)
        var people = Array(data.people.prefix(wanted))
        var round = 2
        while people.count < wanted {
            for person in data.people where people.count < wanted {
                // Numbered ids are short and within the id rules by construction.
                people.append((AccountID(stored: "\(person.id.rawValue)-\(round)"), person.owner))
            }
            round += 1
        }
        self.people = people
        self.weights = data.categories.reduce(0) { $0 + $1.weight }
    }

    /// The next `count` commands, each accepted by the rules in turn.
    public mutating func commands(count: Int) -> [PlannedCommand<BankCommand>] {
        var result: [PlannedCommand<BankCommand>] = []
        result.reserveCapacity(count)
        while result.count < count {
            let command = nextCommand()
            guard let events = try? Ledger.decide(command, state: state) else { continue }
            for event in events { Ledger.evolve(&state, with: event) }
            advanceClock()
            result.append(PlannedCommand(command, timestamp: time))
        }
        return result
    }

    private mutating func nextCommand() -> BankCommand {
        if let closing = pendingClose {
            pendingClose = nil
            if let account = state[closing], !account.isClosed {
                return account.balance > .zero ? .withdraw(closing, amount: account.balance) : .close(closing)
            }
        }
        // Shops open first, then people join over the first part of the history.
        if openedMerchants < data.merchants.count {
            let merchant = data.merchants[openedMerchants]
            openedMerchants += 1
            return .open(merchant.id, owner: merchant.owner)
        }
        if openedPeople < people.count && (openedPeople < 2 || chance(0.12)) {
            let person = people[openedPeople]
            openedPeople += 1
            return .open(person.id, owner: person.owner)
        }
        guard let person = randomOpenPerson() else { return .open(people[0].id, owner: people[0].owner) }
        let balance = state[person]?.balance ?? .zero
        if balance < Money(minorUnits: 5_000) {
            return .deposit(person, amount: amount(in: "salary"))
        }
        if closedPeople * 4 < openedPeople - 2, chance(0.004) {
            closedPeople += 1
            pendingClose = person
            return .withdraw(person, amount: balance)
        }
        let category = pickCategory()
        switch category.name {
        case "salary", "refund":
            return .deposit(person, amount: amount(category))
        case "atm":
            return .withdraw(person, amount: min(balance, amount(category)))
        case "transfer":
            guard let other = randomOpenPerson(excluding: person) else {
                return .deposit(person, amount: amount(category))
            }
            return .transfer(from: person, to: other, amount: min(balance, amount(category)))
        default:
            let shops = data.merchants.filter { $0.category == category.name && state[$0.id]?.isClosed == false }
            guard let shop = shops.randomElement(using: &random) else {
                return .deposit(person, amount: amount(category))
            }
            if chance(0.03) {
                // A shop pays out its takings.
                let takings = state[shop.id]?.balance ?? .zero
                if takings > Money(minorUnits: 100) {
                    return .withdraw(shop.id, amount: Money(minorUnits: takings.minorUnits / 2))
                }
            }
            return .transfer(from: person, to: shop.id, amount: min(balance, amount(category)))
        }
    }

    private mutating func randomOpenPerson(excluding excluded: AccountID? = nil) -> AccountID? {
        for _ in 0..<8 {
            let candidate = people[Int.random(in: 0..<max(1, openedPeople), using: &random)].id
            if candidate != excluded, let account = state[candidate], !account.isClosed { return candidate }
        }
        return nil
    }

    private mutating func pickCategory() -> DemoData.Category {
        var roll = Int.random(in: 0..<weights, using: &random)
        for category in data.categories {
            if roll < category.weight { return category }
            roll -= category.weight
        }
        return data.categories[0]
    }

    private mutating func amount(in name: String) -> Money {
        amount(data.categories.first { $0.name == name } ?? data.categories[0])
    }

    private mutating func amount(_ category: DemoData.Category) -> Money {
        let cents = Int64.random(in: category.minimum.minorUnits...category.maximum.minorUnits, using: &random)
        // Prices end in round-ish cents; cash comes in multiples of 10.
        let rounded = category.name == "atm" ? max(1_000, cents / 1_000 * 1_000) : max(1, cents / 5 * 5)
        return Money(minorUnits: rounded)
    }

    private mutating func chance(_ probability: Double) -> Bool {
        Double(random.next() >> 11) / Double(1 << 53) < probability
    }

    private mutating func advanceClock() {
        // Mostly minutes apart during the day; nights are skipped. A bigger bank is busier:
        // with more people the same clock holds more events (a million events over thousands
        // of accounts span about two years, not a century).
        var step = Int64.random(in: 2...150, using: &random) * 60_000 / Int64(max(1, people.count / 30))
        let hour = (time.millisecondsSinceEpoch + step) / 3_600_000 % 24
        if hour >= 22 || hour < 7 { step += 9 * 3_600_000 }
        time = Timestamp(millisecondsSinceEpoch: time.millisecondsSinceEpoch + step)
    }
}
