import EventSourcing

/// One account as the read side shows it.
public struct AccountSummary: Hashable, Sendable {
    public var id: AccountID
    public var owner: OwnerName
    public var isClosed: Bool
    public var balance: Money
    /// When money last moved or the account last changed.
    public var lastActivity: Timestamp
    /// The position of the last event that touched the account.
    public var lastPosition: Int

    /// `open` or `closed`.
    public var status: String { isClosed ? "closed" : "open" }
}

/// One event as the bank's read models fold it: ids as numbers of one ``AccountDirectory``.
/// Plain data (no references), so that passing one through the models costs no reference
/// counting.
struct Fact {
    var kind: BankEventKind
    var account: AccountNumber
    /// A transfer's receiving account; -1 otherwise.
    var counterparty: AccountNumber = -1
    var amount = Money.zero
    /// An opened account's owner as UTF-8, borrowed: valid only while the fact is applied.
    var owner = UnsafeRawBufferPointer(start: nil, count: 0)
    var position: Int
    var timestamp: Timestamp

    /// The fact of a decoded event; `owner` is the owner's UTF-8 for an opened account.
    init(_ envelope: Envelope<BankEvent>, owner: UnsafeRawBufferPointer, in directory: AccountDirectory) {
        position = envelope.position
        timestamp = envelope.metadata.timestamp
        kind = envelope.event.kind
        account = directory.number(of: envelope.event.stream)
        amount = envelope.event.amount ?? .zero
        self.owner = owner
        if case .moneyTransferred(let transferred) = envelope.event {
            counterparty = directory.number(of: transferred.to)
        }
    }

    /// The fact of a record, read in place (``BankCodec/fields(of:)``, so exactly as checked
    /// as ``BankCodec/decode(_:)``): only a new id makes a string.
    init(_ record: RecordView, in directory: AccountDirectory) throws(UndecodableEvent) {
        let fields = try BankCodec.fields(of: record)
        position = record.position
        timestamp = record.timestamp
        kind = fields.kind
        amount = fields.amount
        account = directory.number(ofStored: fields.account)
        owner = fields.owner
        if fields.kind == .moneyTransferred { counterparty = directory.number(ofStored: fields.counterparty) }
    }
}

/// A bank read model that folds ``Fact``s: both ways in (a decoded envelope, or a record read
/// in place) end in the same ``apply(_:)-(Fact)``, so the fast path cannot fold differently.
/// Each conforming model forwards its public `apply` methods to ``applyEnvelope(_:)`` and
/// ``applyRecord(_:codec:)`` (forwarded one by one: cross-module optimisation does not
/// reach an internal protocol's extension from another module).
protocol FactProjection: Projection where Event == BankEvent {
    var directory: AccountDirectory { get }
    mutating func apply(_ fact: Fact)
}

extension FactProjection {
    mutating func applyEnvelope(_ envelope: Envelope<BankEvent>) {
        let directory = self.directory
        guard case .accountOpened(let opened) = envelope.event else {
            apply(Fact(envelope, owner: UnsafeRawBufferPointer(start: nil, count: 0), in: directory))
            return
        }
        var name = opened.owner.rawValue
        name.withUTF8 { apply(Fact(envelope, owner: UnsafeRawBufferPointer($0), in: directory)) }
    }

    mutating func applyRecord<Codec: EventCodec>(_ record: RecordView, codec: Codec.Type) throws
    where Codec.Event == BankEvent {
        if Codec.self == BankCodec.self {
            apply(try Fact(record, in: directory))
        } else {
            apply(Envelope(metadata: record.metadata, event: try Codec.decode(record)))
        }
    }
}

/// Read model: every account ever opened, with owner, status, balance and last activity.
///
/// Kept in flat arrays indexed by account number, so that a copy (a time-travel checkpoint)
/// costs one copy of plain memory, not a dictionary of strings.
public struct AccountBalances: FactProjection {
    public internal(set) var position = 0
    /// The numbering of account ids (shared with the models it was given to).
    public let directory: AccountDirectory
    /// How many accounts have been opened.
    public internal(set) var count = 0
    var slots: [Slot] = []
    var owners: [OwnerName] = []

    struct Slot {
        var balance: Int64 = 0
        var lastActivity: Int64 = 0
        var lastPosition = 0
        var isOpened = false
        var isClosed = false
    }

    /// An empty model numbering ids in `directory` (a fresh one by default).
    public init(directory: AccountDirectory = AccountDirectory()) {
        self.directory = directory
    }

    /// The account with `id`, if it has been opened.
    public subscript(id: AccountID) -> AccountSummary? {
        guard let number = directory.existingNumber(of: id) else { return nil }
        return summary(number, id: id)
    }

    /// Accounts by id.
    public var accounts: [AccountID: AccountSummary] {
        var result: [AccountID: AccountSummary] = [:]
        result.reserveCapacity(count)
        for account in sorted { result[account.id] = account }
        return result
    }

    /// The accounts sorted by id.
    public var sorted: [AccountSummary] {
        var result: [AccountSummary] = []
        result.reserveCapacity(count)
        for number in directory.numbersInIDOrder(below: slots.count) {
            if let account = summary(number, id: nil) { result.append(account) }
        }
        return result
    }

    private func summary(_ number: AccountNumber, id: AccountID?) -> AccountSummary? {
        let index = Int(number)
        guard index < slots.count, slots[index].isOpened else { return nil }
        let slot = slots[index]
        return AccountSummary(
            id: id ?? directory.id(number), owner: owners[index], isClosed: slot.isClosed,
            balance: Money(minorUnits: slot.balance),
            lastActivity: Timestamp(millisecondsSinceEpoch: slot.lastActivity),
            lastPosition: slot.lastPosition)
    }

    public mutating func apply(_ envelope: Envelope<BankEvent>) { applyEnvelope(envelope) }

    public mutating func apply<Codec: EventCodec>(record: RecordView, codec: Codec.Type) throws
    where Codec.Event == BankEvent { try applyRecord(record, codec: codec) }

    mutating func apply(_ fact: Fact) {
        position = fact.position
        switch fact.kind {
        case .accountOpened:
            let index = Int(fact.account)
            if index >= slots.count {
                slots.append(contentsOf: repeatElement(Slot(), count: index + 1 - slots.count))
                owners.append(contentsOf: repeatElement(OwnerName(stored: ""), count: index + 1 - owners.count))
            }
            if !slots[index].isOpened { count += 1 }
            slots[index] = Slot(
                balance: 0, lastActivity: fact.timestamp.millisecondsSinceEpoch, lastPosition: position, isOpened: true,
                isClosed: false)
            owners[index] = OwnerName(stored: String(decoding: fact.owner, as: UTF8.self))
        case .moneyDeposited:
            touch(fact.account, fact.timestamp, adding: fact.amount)
        case .moneyWithdrawn:
            touch(fact.account, fact.timestamp, subtracting: fact.amount)
        case .moneyTransferred:
            touch(fact.account, fact.timestamp, subtracting: fact.amount)
            touch(fact.counterparty, fact.timestamp, adding: fact.amount)
        case .accountClosed:
            let index = Int(fact.account)
            if index < slots.count, slots[index].isOpened { slots[index].isClosed = true }
            touch(fact.account, fact.timestamp, adding: .zero)
        }
    }

    private mutating func touch(_ number: AccountNumber, _ time: Timestamp, adding amount: Money) {
        let index = Int(number)
        guard index >= 0, index < slots.count, slots[index].isOpened else { return }
        var balance = Money(minorUnits: slots[index].balance)
        balance.add(amount)
        slots[index].balance = balance.minorUnits
        slots[index].lastActivity = time.millisecondsSinceEpoch
        slots[index].lastPosition = position
    }

    private mutating func touch(_ number: AccountNumber, _ time: Timestamp, subtracting amount: Money) {
        let index = Int(number)
        guard index >= 0, index < slots.count, slots[index].isOpened else { return }
        var balance = Money(minorUnits: slots[index].balance)
        balance.subtract(amount)
        slots[index].balance = balance.minorUnits
        slots[index].lastActivity = time.millisecondsSinceEpoch
        slots[index].lastPosition = position
    }
}

/// Read model: ledger-wide totals.
public struct LedgerTotals: Projection, Hashable {
    public internal(set) var position = 0
    public internal(set) var openAccounts = 0
    public internal(set) var closedAccounts = 0
    /// The sum of all balances: deposited minus withdrawn.
    public internal(set) var moneyHeld = Money.zero
    public internal(set) var deposited = Money.zero
    public internal(set) var withdrawn = Money.zero
    public internal(set) var transferred = Money.zero
    /// Events applied, by kind (no heap storage, so a copy is a copy of a few words).
    var counts = KindCounts()

    struct KindCounts: Hashable {
        var opened = 0, deposited = 0, withdrawn = 0, transferred = 0, closed = 0

        subscript(kind: BankEventKind) -> Int {
            get {
                switch kind {
                case .accountOpened: return opened
                case .moneyDeposited: return deposited
                case .moneyWithdrawn: return withdrawn
                case .moneyTransferred: return transferred
                case .accountClosed: return closed
                }
            }
            set {
                switch kind {
                case .accountOpened: opened = newValue
                case .moneyDeposited: deposited = newValue
                case .moneyWithdrawn: withdrawn = newValue
                case .moneyTransferred: transferred = newValue
                case .accountClosed: closed = newValue
                }
            }
        }
    }

    /// Events applied of `kind`.
    public func eventCount(of kind: BankEventKind) -> Int { counts[kind] }

    public init() {}

    /// Events applied.
    public var eventCount: Int { position }

    public mutating func apply(_ envelope: Envelope<BankEvent>) {
        apply(envelope.position, envelope.event.kind, envelope.event.amount ?? .zero)
    }

    public mutating func apply<Codec: EventCodec>(record: RecordView, codec: Codec.Type) throws
    where Codec.Event == BankEvent {
        if Codec.self == BankCodec.self {
            let fields = try BankCodec.fields(of: record)
            apply(record.position, fields.kind, fields.amount)
        } else {
            apply(Envelope(metadata: record.metadata, event: try Codec.decode(record)))
        }
    }

    mutating func apply(_ fact: Fact) {
        apply(fact.position, fact.kind, fact.amount)
    }

    private mutating func apply(_ position: Int, _ kind: BankEventKind, _ amount: Money) {
        self.position = position
        counts[kind] += 1
        switch kind {
        case .accountOpened: openAccounts += 1
        case .accountClosed:
            openAccounts -= 1
            closedAccounts += 1
        case .moneyDeposited:
            deposited.add(amount)
            moneyHeld.add(amount)
        case .moneyWithdrawn:
            withdrawn.add(amount)
            moneyHeld.subtract(amount)
        case .moneyTransferred:
            transferred.add(amount)
        }
    }
}

/// One line of an account's history.
public struct HistoryEntry: Hashable, Sendable {
    public var position: Int
    public var timestamp: Timestamp
    public var kind: BankEventKind
    /// The stable type name of the event.
    public var typeName: String { kind.typeName }
    /// The change to this account's balance (negative when money left).
    public var change: Money
    /// The other account of a transfer.
    public var counterparty: AccountID?
    /// The balance after the event.
    public var balanceAfter: Money
}

/// Read model: each account's events with a running balance (a statement). Full entries cost
/// about 64 bytes each; follow only the account you need with ``init(only:)``, or use
/// ``BalanceTrail`` to keep every account's balances compactly.
public struct AccountHistory: Projection {
    public internal(set) var position = 0
    /// Entries by account, oldest first.
    public private(set) var entries: [AccountID: [HistoryEntry]] = [:]
    private let only: AccountID?

    /// Follows every account, or only `account`.
    public init(only account: AccountID? = nil) {
        only = account
    }

    /// The account's entries, oldest first.
    public func entries(of id: AccountID) -> [HistoryEntry] { entries[id] ?? [] }

    public mutating func apply(_ envelope: Envelope<BankEvent>) {
        position = envelope.position
        let event = envelope.event
        switch event {
        case .accountOpened(let opened): record(opened.account, envelope, change: .zero, counterparty: nil)
        case .moneyDeposited(let deposited):
            record(deposited.account, envelope, change: deposited.amount, counterparty: nil)
        case .moneyWithdrawn(let withdrawn):
            record(
                withdrawn.account, envelope, change: Money(minorUnits: -withdrawn.amount.minorUnits), counterparty: nil)
        case .moneyTransferred(let transferred):
            record(
                transferred.from, envelope, change: Money(minorUnits: -transferred.amount.minorUnits),
                counterparty: transferred.to)
            record(transferred.to, envelope, change: transferred.amount, counterparty: transferred.from)
        case .accountClosed(let closed): record(closed.account, envelope, change: .zero, counterparty: nil)
        }
    }

    private mutating func record(
        _ id: AccountID, _ envelope: Envelope<BankEvent>, change: Money, counterparty: AccountID?
    ) {
        if let only, only != id { return }
        // One hash lookup, then the account's array grows in place.
        if entries.index(forKey: id) == nil { entries[id] = [] }
        guard let index = entries.index(forKey: id) else { return }
        var balance = entries.values[index].last?.balanceAfter ?? .zero
        balance.add(change)
        entries.values[index].append(
            HistoryEntry(
                position: envelope.position, timestamp: envelope.metadata.timestamp, kind: envelope.event.kind,
                change: change, counterparty: counterparty, balanceAfter: balance))
    }
}

/// Read model: every account's balance after each event that touched it, in 12 bytes an entry
/// (position and balance), for sparklines and before → after at any position. Everything
/// else about those events is in the log.
public struct BalanceTrail: FactProjection {
    public internal(set) var position = 0
    /// The numbering of account ids (shared with the models it was given to).
    public let directory: AccountDirectory
    /// By account number: each event that touched it, oldest first.
    var entries: [[Entry]] = []

    /// An event's position and the balance after it, in 12 bytes.
    struct Entry {
        var position: UInt32
        var balanceLow: UInt32
        var balanceHigh: Int32

        init(position: UInt32, balance: Int64) {
            self.position = position
            balanceLow = UInt32(truncatingIfNeeded: balance)
            balanceHigh = Int32(truncatingIfNeeded: balance >> 32)
        }

        var balance: Int64 { Int64(balanceHigh) << 32 | Int64(balanceLow) }
    }

    /// An empty trail numbering ids in `directory` (a fresh one by default).
    public init(directory: AccountDirectory = AccountDirectory()) {
        self.directory = directory
    }

    /// The account's last `count` balances at or before `position`, oldest first.
    public func recentBalances(of id: AccountID, through position: Int, count: Int) -> ArraySlice<Int64> {
        guard let index = index(of: id) else { return [] }
        let all = entries[index]
        let end = endIndex(all, through: position)
        return ArraySlice(all[max(0, end - count)..<end].map(\.balance))
    }

    /// The account's balance before and after the event at `position`, if it touched the account.
    public func change(of id: AccountID, at position: Int) -> (before: Money, after: Money)? {
        guard let index = index(of: id) else { return nil }
        let all = entries[index]
        let end = endIndex(all, through: position)
        guard end > 0, all[end - 1].position == UInt32(truncatingIfNeeded: position) else { return nil }
        return (Money(minorUnits: end > 1 ? all[end - 2].balance : 0), Money(minorUnits: all[end - 1].balance))
    }

    public mutating func apply(_ envelope: Envelope<BankEvent>) { applyEnvelope(envelope) }

    public mutating func apply<Codec: EventCodec>(record: RecordView, codec: Codec.Type) throws
    where Codec.Event == BankEvent { try applyRecord(record, codec: codec) }

    mutating func apply(_ fact: Fact) {
        position = fact.position
        switch fact.kind {
        case .accountOpened, .accountClosed: record(fact.account, .zero)
        case .moneyDeposited: record(fact.account, fact.amount)
        case .moneyWithdrawn: record(fact.account, Money(minorUnits: 0 &- fact.amount.minorUnits))
        case .moneyTransferred:
            record(fact.account, Money(minorUnits: 0 &- fact.amount.minorUnits))
            record(fact.counterparty, fact.amount)
        }
    }

    private func index(of id: AccountID) -> Int? {
        guard let number = directory.existingNumber(of: id), Int(number) < entries.count else { return nil }
        return Int(number)
    }

    private mutating func record(_ number: AccountNumber, _ change: Money) {
        let index = Int(number)
        if index >= entries.count { entries.append(contentsOf: repeatElement([], count: index + 1 - entries.count)) }
        var balance = Money(minorUnits: entries[index].last?.balance ?? 0)
        balance.add(change)
        entries[index].append(Entry(position: UInt32(truncatingIfNeeded: position), balance: balance.minorUnits))
    }

    private func endIndex(_ entries: [Entry], through position: Int) -> Int {
        let limit = UInt32(clamping: position)
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].position <= limit { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// Activity on one UTC day.
public struct DayActivity: Hashable, Sendable {
    /// Days since 1970-01-01.
    public var day: Int64
    public var events = 0
    public var deposited = Money.zero
    public var withdrawn = Money.zero
    public var transferred = Money.zero

    mutating func record(_ kind: BankEventKind, _ amount: Money) {
        events += 1
        switch kind {
        case .moneyDeposited: deposited.add(amount)
        case .moneyWithdrawn: withdrawn.add(amount)
        case .moneyTransferred: transferred.add(amount)
        case .accountOpened, .accountClosed: break
        }
    }
}

/// Read model: activity per day.
///
/// Days are kept in chunks of up to ``chunkSize`` days, in order: a copy (a time-travel
/// checkpoint) shares every chunk, and the next event copies only the chunk it changes, so a
/// history of many years does not cost a copy of every day per checkpoint.
public struct ActivityOverTime: Projection, Hashable {
    public internal(set) var position = 0
    /// Sorted days in consecutive chunks; only the last one grows by appending.
    var chunks: [[DayActivity]] = []

    /// Days a chunk holds before a new one is started.
    static let chunkSize = 256

    public init() {}

    /// The days with activity, oldest first.
    public var sortedDays: [DayActivity] { Array(chunks.joined()) }

    /// Days with activity, by day number.
    public var days: [Int64: DayActivity] {
        Dictionary(uniqueKeysWithValues: sortedDays.map { ($0.day, $0) })
    }

    public mutating func apply(_ envelope: Envelope<BankEvent>) {
        apply(envelope.position, envelope.metadata.timestamp, envelope.event.kind, envelope.event.amount ?? .zero)
    }

    public mutating func apply<Codec: EventCodec>(record: RecordView, codec: Codec.Type) throws
    where Codec.Event == BankEvent {
        if Codec.self == BankCodec.self {
            let fields = try BankCodec.fields(of: record)
            apply(record.position, record.timestamp, fields.kind, fields.amount)
        } else {
            apply(Envelope(metadata: record.metadata, event: try Codec.decode(record)))
        }
    }

    mutating func apply(_ fact: Fact) {
        apply(fact.position, fact.timestamp, fact.kind, fact.amount)
    }

    private mutating func apply(_ position: Int, _ time: Timestamp, _ kind: BankEventKind, _ amount: Money) {
        self.position = position
        let day = time.dayNumber
        // Almost every event falls on the last day seen, or on a new one after it.
        if let chunk = chunks.indices.last, let last = chunks[chunk].indices.last {
            if chunks[chunk][last].day == day {
                chunks[chunk][last].record(kind, amount)
                return
            }
            if chunks[chunk][last].day < day {
                if chunks[chunk].count >= ActivityOverTime.chunkSize { chunks.append([]) }
                chunks[chunks.count - 1].append(DayActivity(day: day))
                chunks[chunks.count - 1][chunks[chunks.count - 1].count - 1].record(kind, amount)
                return
            }
        } else {
            chunks = [[DayActivity(day: day)]]
            chunks[0][0].record(kind, amount)
            return
        }
        // An earlier day (clocks of different processes disagree): the last chunk whose first
        // day is at or before it, or the first chunk.
        var low = 0
        var high = chunks.count
        while low < high {
            let middle = (low + high) / 2
            if chunks[middle][0].day <= day { low = middle + 1 } else { high = middle }
        }
        let chunk = max(0, low - 1)
        var index = 0
        var end = chunks[chunk].count
        while index < end {
            let middle = (index + end) / 2
            if chunks[chunk][middle].day < day { index = middle + 1 } else { end = middle }
        }
        if index == chunks[chunk].count || chunks[chunk][index].day != day {
            chunks[chunk].insert(DayActivity(day: day), at: index)
        }
        chunks[chunk][index].record(kind, amount)
    }

    public static func == (lhs: ActivityOverTime, rhs: ActivityOverTime) -> Bool {
        lhs.position == rhs.position && lhs.sortedDays == rhs.sortedDays
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(position)
        hasher.combine(sortedDays)
    }
}

/// The read models the dashboard shows, fed together: one value, so that time travel can
/// checkpoint and restore them as one. A record is parsed once for all three.
public struct BankDashboard: FactProjection {
    public internal(set) var balances: AccountBalances
    public internal(set) var totals = LedgerTotals()
    public internal(set) var activity = ActivityOverTime()

    /// Empty models numbering ids in `directory` (a fresh one by default).
    public init(directory: AccountDirectory = AccountDirectory()) {
        balances = AccountBalances(directory: directory)
    }

    public var directory: AccountDirectory { balances.directory }

    public var position: Int { totals.position }

    public mutating func apply(_ envelope: Envelope<BankEvent>) { applyEnvelope(envelope) }

    public mutating func apply<Codec: EventCodec>(record: RecordView, codec: Codec.Type) throws
    where Codec.Event == BankEvent { try applyRecord(record, codec: codec) }

    mutating func apply(_ fact: Fact) {
        balances.apply(fact)
        totals.apply(fact)
        activity.apply(fact)
    }
}

/// The read models a live view keeps: the dashboard (which time travel checkpoints) and the
/// balance trail, sharing one ``AccountDirectory`` and fed together, so that each record is
/// parsed once for both.
public struct LiveReadModels: FactProjection {
    public internal(set) var dashboard: BankDashboard
    public internal(set) var trail: BalanceTrail

    /// Empty models numbering ids in `directory` (a fresh one by default).
    public init(directory: AccountDirectory = AccountDirectory()) {
        dashboard = BankDashboard(directory: directory)
        trail = BalanceTrail(directory: directory)
    }

    public var directory: AccountDirectory { dashboard.directory }

    public var position: Int { dashboard.position }

    /// Applies the next record, read in place in ``BankCodec``'s format: the fold of a replay.
    public mutating func apply(record: RecordView) throws(UndecodableEvent) {
        apply(try Fact(record, in: directory))
    }

    public mutating func apply(_ envelope: Envelope<BankEvent>) { applyEnvelope(envelope) }

    public mutating func apply<Codec: EventCodec>(record: RecordView, codec: Codec.Type) throws
    where Codec.Event == BankEvent { try applyRecord(record, codec: codec) }

    mutating func apply(_ fact: Fact) {
        dashboard.apply(fact)
        trail.apply(fact)
    }
}
