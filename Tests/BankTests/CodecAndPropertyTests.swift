import Bank
import EventSourcing
import Foundation
import Testing

/// The demo data from the source tree's Assets folder.
func demoData() throws -> DemoData {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    func read(_ name: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent("Assets/demo/\(name)"), encoding: .utf8)
    }
    return try DemoData(people: read("people.tsv"), merchants: read("merchants.tsv"), amounts: read("amounts.tsv"))
}

/// A store holding a generated history.
func generatedStore(seed: UInt64, events: Int) throws -> InMemoryEventStore {
    let store = InMemoryEventStore()
    var generator = DemoGenerator(data: try demoData(), seed: seed)
    let processor = CommandProcessor<Ledger, BankCodec>(
        store: store, clock: ManualClock(start: DemoGenerator.defaultStart), makeCommandID: { UUID().uuidString })
    let outcome = try processor.handleGroup(generator.commands(count: events), commitEvery: 64)
    #expect(outcome.rejections.isEmpty)
    #expect(store.lastPosition == events)
    return store
}

struct CodecTests {
    @Test func everyEventRoundTripsThroughTheRecordFormat() throws {
        let events: [BankEvent] = [
            .accountOpened(AccountOpened(account: id("alice"), owner: OwnerName(stored: "Alice 佐藤 🍜"))),
            .moneyDeposited(MoneyDeposited(account: id("alice"), amount: cents(1250))),
            .moneyWithdrawn(MoneyWithdrawn(account: id("alice"), amount: cents(1))),
            .moneyTransferred(
                MoneyTransferred(from: id("alice"), to: id("a-much-longer-account-id-of-32ch"), amount: cents(99))),
            .accountClosed(AccountClosed(account: id("alice"))),
        ]
        let store = InMemoryEventStore()
        for event in events {
            try store.append([BankCodec.encode(event)], commandID: "c", timestamp: Timestamp(millisecondsSinceEpoch: 0))
        }
        var decoded: [BankEvent] = []
        try store.forEachRecord(from: 1, through: store.lastPosition) { decoded.append(try BankCodec.decode($0)) }
        #expect(decoded == events)
    }

    @Test func typeNamesAreStableStrings() {
        #expect(
            BankCodec.encode(.moneyTransferred(MoneyTransferred(from: id("a"), to: id("b"), amount: cents(1)))).typeName
                == "MoneyTransferred")
        #expect(BankCodec.encode(.accountClosed(AccountClosed(account: id("a")))).schemaVersion == 1)
    }

    @Test func unknownTypesAndVersionsAreRefusedNotMisread() throws {
        let store = InMemoryEventStore()
        try store.append(
            [NewEvent(stream: "a", typeName: "MoneyTeleported", schemaVersion: 1, payload: [])], commandID: "c",
            timestamp: Timestamp(millisecondsSinceEpoch: 0))
        try store.append(
            [NewEvent(stream: "a", typeName: "MoneyDeposited", schemaVersion: 2, payload: [1, 0, 0, 0, 0, 0, 0, 0])],
            commandID: "d", timestamp: Timestamp(millisecondsSinceEpoch: 0))
        try store.append(
            [NewEvent(stream: "a", typeName: "MoneyDeposited", schemaVersion: 1, payload: [1, 0])], commandID: "e",
            timestamp: Timestamp(millisecondsSinceEpoch: 0))
        // Names that match a real one in length and in the letter that tells them apart.
        for name in ["MoneyDepositex", "AccountOpenex", "AccountClosex", "MoneyTransferrex", ""] {
            try store.append(
                [NewEvent(stream: "a", typeName: name, schemaVersion: 1, payload: [1, 0, 0, 0, 0, 0, 0, 0])],
                commandID: "f-\(name)", timestamp: Timestamp(millisecondsSinceEpoch: 0))
        }
        for position in 1...8 {
            #expect(throws: UndecodableEvent.self) {
                try store.forEachRecord(from: position, through: position) { _ = try BankCodec.decode($0) }
            }
            // The in-place path of the read models refuses exactly what the decoder refuses.
            var dashboard = BankDashboard()
            #expect(throws: UndecodableEvent.self) {
                try store.forEachRecord(from: position, through: position) {
                    try dashboard.apply(record: $0, codec: BankCodec.self)
                }
            }
            #expect(dashboard.position == 0)
        }
    }
}

struct AccountDirectoryTests {
    @Test func numbersAreDenseStableAndListedInIDOrder() {
        let directory = AccountDirectory()
        // Enough ids to grow the table several times.
        let ids = (0..<5000).map { AccountID(stored: "acct-\(($0 * 7919) % 5000)") }
        let numbers = ids.map { directory.number(of: $0) }
        #expect(numbers == (0..<5000).map { AccountNumber($0) })
        #expect(directory.count == 5000)
        for (index, id) in ids.enumerated() {
            #expect(directory.id(AccountNumber(index)) == id)
            #expect(directory.existingNumber(of: id) == AccountNumber(index))
            var bytes = id.rawValue
            #expect(bytes.withUTF8 { directory.number(ofStored: UnsafeRawBufferPointer($0)) } == AccountNumber(index))
        }
        #expect(directory.existingNumber(of: AccountID(stored: "acct-5000")) == nil)
        #expect(directory.count == 5000)
        let inOrder = directory.numbersInIDOrder(below: 5000).map { directory.id($0) }
        #expect(inOrder == ids.sorted())
        #expect(directory.numbersInIDOrder(below: 2).map { directory.id($0) } == Array(ids.prefix(2)).sorted())
    }

    @Test func modelsSharingADirectoryShowOnlyTheAccountsTheyOpened() throws {
        let directory = AccountDirectory()
        var trail = BalanceTrail(directory: directory)
        var balances = AccountBalances(directory: directory)
        let time = Timestamp(millisecondsSinceEpoch: 0)
        func envelope(_ position: Int, _ event: BankEvent) -> Envelope<BankEvent> {
            Envelope(
                metadata: EventMetadata(
                    position: position, stream: event.stream.rawValue, streamVersion: 1, timestamp: time,
                    commandID: "c", typeName: event.typeName, schemaVersion: 1), event: event)
        }
        // The trail meets "zed" (never opened) first, so it has number 0.
        trail.apply(envelope(1, .moneyDeposited(MoneyDeposited(account: id("zed"), amount: cents(5)))))
        balances.apply(envelope(1, .moneyDeposited(MoneyDeposited(account: id("zed"), amount: cents(5)))))
        let opened = BankEvent.accountOpened(AccountOpened(account: id("amy"), owner: OwnerName(stored: "Amy")))
        trail.apply(envelope(2, opened))
        balances.apply(envelope(2, opened))
        #expect(balances.count == 1)
        #expect(balances.sorted.map(\.id) == [id("amy")])
        #expect(balances[id("zed")] == nil)
        #expect(balances[id("amy")]?.owner == OwnerName(stored: "Amy"))
        #expect(Array(trail.recentBalances(of: id("zed"), through: 2, count: 5)) == [5])
    }
}

struct ActivityTests {
    /// Days are kept in chunks; whatever order the days come in, the result is the plain
    /// per-day sums, oldest first, and a copy taken midway is unchanged by later events.
    @Test func daysInAnyOrderSumAsAPlainTallyWouldAndCopiesStayPut() {
        var activity = ActivityOverTime()
        var expected: [Int64: (events: Int, deposited: Int64)] = [:]
        var generator = SplitMix64(seed: 11)
        var copy: ActivityOverTime?
        var copyExpected = expected
        for position in 1...3000 {
            // Mostly forward through 700 days, sometimes back (other processes' clocks).
            let day =
                Int64(position / 4)
                - (Int.random(in: 0..<10, using: &generator) == 0 ? Int64.random(in: 0...400, using: &generator) : 0)
            let amount = Int64.random(in: 1...1000, using: &generator)
            let time = Timestamp(millisecondsSinceEpoch: day * 86_400_000 + 1000)
            let event = BankEvent.moneyDeposited(MoneyDeposited(account: id("a"), amount: cents(amount)))
            activity.apply(
                Envelope(
                    metadata: EventMetadata(
                        position: position, stream: "a", streamVersion: position, timestamp: time, commandID: "c",
                        typeName: event.typeName, schemaVersion: 1), event: event))
            expected[day, default: (0, 0)].events += 1
            expected[day, default: (0, 0)].deposited += amount
            if position == 1500 {
                copy = activity
                copyExpected = expected
            }
        }
        func check(_ model: ActivityOverTime, _ sums: [Int64: (events: Int, deposited: Int64)]) {
            let days = model.sortedDays
            #expect(days.map(\.day) == sums.keys.sorted())
            #expect(
                days.allSatisfy {
                    sums[$0.day]?.events == $0.events && sums[$0.day]?.deposited == $0.deposited.minorUnits
                })
        }
        check(activity, expected)
        check(copy!, copyExpected)
    }
}

struct HistoryPropertyTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func stateAtEveryPositionEqualsTheFoldOfThatPrefix(seed: UInt64) throws {
        let store = try generatedStore(seed: seed, events: 300)
        var envelopes: [Envelope<BankEvent>] = []
        try store.forEachRecord(from: 1, through: store.lastPosition) {
            envelopes.append(Envelope(metadata: $0.metadata, event: try BankCodec.decode($0)))
        }
        let timeline = Timeline(store: store, empty: BankDashboard(), codec: BankCodec.self, interval: 7)
        var fold = BankDashboard()
        var writeModel = Ledger.initialState
        for n in 0...envelopes.count {
            if n > 0 {
                fold.apply(envelopes[n - 1])
                Ledger.evolve(&writeModel, with: envelopes[n - 1].event)
            }
            let travelled = try timeline.model(at: n)
            #expect(travelled.balances.accounts == fold.balances.accounts)
            #expect(travelled.totals == fold.totals)
            #expect(travelled.activity == fold.activity)
            // The read side and the write side agree on every balance.
            #expect(fold.balances.accounts.mapValues(\.balance) == writeModel.mapValues(\.balance))
            // Money is conserved: the sum of balances is deposits minus withdrawals.
            let sum = fold.balances.accounts.values.reduce(Int64(0)) { $0 + $1.balance.minorUnits }
            #expect(sum == fold.totals.deposited.minorUnits - fold.totals.withdrawn.minorUnits)
            #expect(sum == fold.totals.moneyHeld.minorUnits)
            #expect(fold.balances.accounts.values.allSatisfy { $0.balance >= .zero })
        }
        // Jumping backwards and forwards in any order gives the same answers.
        for n in [300, 0, 150, 7, 8, 6, 299, 1] {
            var plain = BankDashboard()
            for envelope in envelopes.prefix(n) { plain.apply(envelope) }
            #expect(try timeline.model(at: n).balances.accounts == plain.balances.accounts)
        }
    }

    @Test func historyRunningBalancesMatchTheBalances() throws {
        let store = try generatedStore(seed: 9, events: 400)
        var history = AccountHistory()
        var balances = AccountBalances()
        try history.catchUp(from: store, codec: BankCodec.self)
        try balances.catchUp(from: store, codec: BankCodec.self)
        for account in balances.accounts.values {
            let entries = history.entries(of: account.id)
            #expect(entries.last?.balanceAfter == account.balance)
            var running = Int64(0)
            for entry in entries {
                running += entry.change.minorUnits
                #expect(entry.balanceAfter.minorUnits == running)
                #expect(running >= 0)
            }
        }
    }

    @Test func theBalanceTrailAgreesWithTheFullHistoryAtEveryPosition() throws {
        let store = try generatedStore(seed: 5, events: 300)
        var history = AccountHistory()
        var trail = BalanceTrail()
        try history.catchUp(from: store, codec: BankCodec.self)
        try trail.catchUp(from: store, codec: BankCodec.self)
        for (account, entries) in history.entries {
            for (index, entry) in entries.enumerated() {
                let change = trail.change(of: account, at: entry.position)
                #expect(change?.after == entry.balanceAfter)
                #expect(change?.before == (index > 0 ? entries[index - 1].balanceAfter : .zero))
                let recent = trail.recentBalances(of: account, through: entry.position, count: 3)
                #expect(Array(recent) == entries[max(0, index - 2)...index].map { $0.balanceAfter.minorUnits })
            }
            #expect(trail.change(of: account, at: 0) == nil)
        }
    }

    @Test func theDemoIsReproducible() throws {
        let first = try generatedStore(seed: 42, events: 200).storedEvents().map { $0.payload }
        let second = try generatedStore(seed: 42, events: 200).storedEvents().map { $0.payload }
        let other = try generatedStore(seed: 43, events: 200).storedEvents().map { $0.payload }
        #expect(first == second)
        #expect(first != other)
    }
}

struct ReadModelSnapshotTests {
    /// The models folded from `store`'s first `count` events, and their anchor.
    func folded(_ store: any EventStore, through count: Int) throws -> (LiveReadModels, SnapshotAnchor) {
        var models = LiveReadModels()
        var digest = ChainDigest.zero
        try store.forEachRecord(from: 1, through: count) { record in
            try models.apply(record: record)
            digest = ChainDigest(of: record.body)
        }
        return (models, SnapshotAnchor(position: count, digest: digest))
    }

    func expectSame(_ a: LiveReadModels, _ b: LiveReadModels, through last: Int) {
        #expect(a.position == b.position)
        #expect(a.dashboard.balances.accounts == b.dashboard.balances.accounts)
        #expect(a.dashboard.totals == b.dashboard.totals)
        #expect(a.dashboard.activity == b.dashboard.activity)
        for account in a.dashboard.balances.accounts.keys {
            for position in stride(from: 0, through: last, by: 7) {
                #expect(
                    Array(a.trail.recentBalances(of: account, through: position, count: 5))
                        == Array(b.trail.recentBalances(of: account, through: position, count: 5)))
                #expect(
                    a.trail.change(of: account, at: position)?.after == b.trail.change(of: account, at: position)?.after
                )
            }
        }
    }

    /// A snapshot read back, then fed the events after it, equals the plain fold of them all.
    @Test func aSnapshotReadBackFoldsOnExactlyAsThePlainFold() throws {
        let store = try generatedStore(seed: 4, events: 500)
        let (models, anchor) = try folded(store, through: 300)
        let bytes = ReadModelSnapshot.encode(models, anchor: anchor)
        var (restored, restoredAnchor) = try bytes.withUnsafeBytes { try ReadModelSnapshot.decode($0) }
        #expect(restoredAnchor == anchor)
        expectSame(restored, models, through: 300)
        try store.forEachRecord(from: 301, through: 500) { try restored.apply(record: $0) }
        let (plain, _) = try folded(store, through: 500)
        expectSame(restored, plain, through: 500)
    }

    /// Every flipped byte and every truncation is refused, never read into models.
    @Test func aDamagedSnapshotIsRefused() throws {
        let store = try generatedStore(seed: 6, events: 40)
        let (models, anchor) = try folded(store, through: 40)
        let bytes = ReadModelSnapshot.encode(models, anchor: anchor)
        for offset in bytes.indices {
            var damaged = bytes
            damaged[offset] ^= 0x10
            #expect(throws: UnusableSnapshot.self) { try damaged.withUnsafeBytes { try ReadModelSnapshot.decode($0) } }
        }
        for length in 0..<bytes.count {
            #expect(throws: UnusableSnapshot.self) {
                try Array(bytes.prefix(length)).withUnsafeBytes { try ReadModelSnapshot.decode($0) }
            }
        }
    }
}
