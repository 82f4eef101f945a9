import EventSourcing
import Testing

/// A tiny domain, to show the machinery works without the bank: counters that may not go
/// below zero.
enum Counter: Decider, EventCodec {
    enum Command: Sendable { case add(String, Int8) }
    struct Event: Sendable, Equatable {
        var name: String
        var delta: Int8
    }
    struct WouldGoNegative: Error, Equatable {}
    typealias State = [String: Int]

    static var initialState: State { [:] }
    static func decide(_ command: Command, state: State) throws(WouldGoNegative) -> [Event] {
        guard case .add(let name, let delta) = command else { return [] }
        guard state[name, default: 0] + Int(delta) >= 0 else { throw WouldGoNegative() }
        return [Event(name: name, delta: delta)]
    }
    static func evolve(_ state: inout State, with event: Event) { state[event.name, default: 0] += Int(event.delta) }
    static func streams(readBy command: Command) -> [String] {
        guard case .add(let name, _) = command else { return [] }
        return [name]
    }
    static func encode(_ event: Event) -> NewEvent {
        NewEvent(stream: event.name, typeName: "Added", schemaVersion: 1, payload: [UInt8(bitPattern: event.delta)])
    }
    static func decode(_ record: RecordView) throws(UndecodableEvent) -> Event {
        guard record.hasTypeName("Added"), record.payload.count == 1 else {
            throw UndecodableEvent(position: record.position, reason: "bad")
        }
        return Event(name: record.stream, delta: Int8(bitPattern: record.payload[0]))
    }
}

struct Sum: Projection {
    var position = 0
    var total = 0
    mutating func apply(_ envelope: Envelope<Counter.Event>) {
        precondition(envelope.position == position + 1)
        position = envelope.position
        total += Int(envelope.event.delta)
    }
}

struct CommandProcessorTests {
    func makeProcessor(_ store: any EventStore) -> CommandProcessor<Counter, Counter> {
        var next = 0
        return CommandProcessor(store: store, clock: ManualClock(start: noon)) {
            next += 1
            return "generated-\(next)"
        }
    }

    @Test func acceptedCommandsAppendTheirEventsWithTheClocksTime() throws {
        let store = InMemoryEventStore()
        let processor = makeProcessor(store)
        let outcome = try processor.handle(.add("a", 5))
        guard case .appended(let envelopes) = outcome else {
            Issue.record("not appended")
            return
        }
        #expect(envelopes.map(\.event) == [Counter.Event(name: "a", delta: 5)])
        #expect(envelopes[0].metadata.timestamp == noon)
        #expect(envelopes[0].metadata.commandID == "generated-1")
        #expect(processor.state == ["a": 5])
        // What a command returns is what the log holds, for every event of it.
        try processor.handle(.add("b", 1))
        guard case .appended(let third) = try processor.handle(.add("a", 2)) else {
            Issue.record("not appended")
            return
        }
        let stored = try store.storedEvents(from: 3, through: 3)
        #expect(third.map(\.metadata) == stored.map(\.metadata))
        #expect(stored.first?.metadata.streamVersion == 2)
        #expect(processor.position == 3)
    }

    @Test func rejectedCommandsAppendNothing() throws {
        let store = InMemoryEventStore()
        let processor = makeProcessor(store)
        #expect(throws: Counter.WouldGoNegative()) { try processor.handle(.add("a", -1)) }
        #expect(store.lastPosition == 0)
    }

    @Test func aRepeatedCommandIDAppendsOnceAndReturnsTheFirstResult() throws {
        let directory = TemporaryDirectory()
        let first = try makeProcessor(FileEventStore(path: directory.file())).handle(.add("a", 5), commandID: "once")
        // A new process (a new store instance) still knows the id: idempotency is permanent.
        let store = try FileEventStore(path: directory.file())
        let again = try makeProcessor(store).handle(.add("a", 7), commandID: "once")
        guard case .duplicate(let envelopes) = again else {
            Issue.record("appended twice")
            return
        }
        #expect(envelopes == first.envelopes)
        #expect(store.lastPosition == 1)
    }

    @Test func aWriterCatchesUpOnAnotherWriterBeforeDeciding() throws {
        let directory = TemporaryDirectory()
        let one = makeProcessor(try FileEventStore(path: directory.file()))
        let two = makeProcessor(try FileEventStore(path: directory.file()))
        try one.handle(.add("a", 3))
        try two.handle(.add("a", -3))  // only allowed because two saw one's +3
        #expect(throws: Counter.WouldGoNegative()) { try one.handle(.add("a", -1)) }
        #expect(one.state == ["a": 0])
    }

    @Test func aGroupCommitsEachCommandsEventsAndSkipsRejections() throws {
        let store = InMemoryEventStore()
        let processor = makeProcessor(store)
        let outcome = try processor.handleGroup(
            [
                PlannedCommand(.add("a", 2)), PlannedCommand(.add("a", -5)), PlannedCommand(.add("a", -2)),
                PlannedCommand(.add("b", 1)),
            ],
            commitEvery: 2)
        #expect(outcome.acceptedCommands == 3)
        #expect(outcome.rejections.map(\.index) == [1])
        #expect(processor.state == ["a": 0, "b": 1])
        #expect(try store.streamVersion(of: "a") == 2)
    }

    /// A group keeps the state it decided from instead of reading its events back: that state
    /// must be exactly the fold of the log, at every commit size.
    @Test(arguments: [1, 3, 64])
    func aGroupLeavesTheStateOfTheLogAndAppendsARepeatedIDOnce(commitEvery: Int) throws {
        let store = InMemoryEventStore()
        let processor = makeProcessor(store)
        var commands = (0..<40).map { index in
            PlannedCommand(Counter.Command.add("c\(index % 3)", Int8(index % 5) - 1), commandID: "id-\(index)")
        }
        commands.insert(PlannedCommand(.add("c0", 9), commandID: "id-2"), at: 4)  // repeats id-2
        let outcome = try processor.handleGroup(commands, commitEvery: commitEvery)
        let fresh = makeProcessor(store)
        try fresh.catchUp()
        #expect(processor.state == fresh.state)
        #expect(processor.position == store.lastPosition)
        #expect(outcome.appendedEvents == store.lastPosition)
        #expect(try store.positions(ofCommand: "id-2").map { Array($0) }?.count == 1)
        #expect(store.lastPosition == 40 - outcome.rejections.count)
    }
}

struct BusAndTimelineTests {
    @Test func theBusDeliversEveryEventOnceInOrderToLateSubscribersToo() throws {
        let directory = TemporaryDirectory()
        let store = try FileEventStore(path: directory.file())
        let other = try FileEventStore(path: directory.file())
        let bus = EventBus<Counter>(store: store)
        var early: [Int] = []
        try bus.subscribe(after: 0) { early.append($0.position) }
        let processor = CommandProcessorTests().makeProcessor(store)
        try processor.handle(.add("a", 1))
        try CommandProcessorTests().makeProcessor(other).handle(.add("a", 1))  // another "process"
        #expect(try bus.pump() == 2)
        var late: [Int] = []
        try bus.subscribe(after: 1) { late.append($0.position) }
        try processor.handle(.add("b", 1))
        try bus.pump()
        #expect(try bus.pump() == 0)
        #expect(early == [1, 2, 3])
        #expect(late == [2, 3])
    }

    /// Checkpoints made ahead of need, a budget at a time, give the same models as ever.
    @Test func checkpointsPreparedInIdleTurnsGiveThePlainFold() throws {
        let store = InMemoryEventStore()
        let processor = CommandProcessorTests().makeProcessor(store)
        for _ in 0..<100 { try processor.handle(.add("a", 1)) }
        let timeline = Timeline(store: store, empty: Sum(), codec: Counter.self, interval: 7, fineInterval: 3)
        var turns = 1
        while !(try timeline.prepare(budget: 10)) { turns += 1 }
        #expect(turns == 14)  // 14 checkpoints (7 … 98), one a turn with this budget
        #expect(try timeline.prepare(budget: 10))
        for position in 0...100 { #expect(try timeline.model(at: position).total == position) }
    }

    @Test func recordSubscribersGetTheSameOrderAloneOrBesideEnvelopeSubscribers() throws {
        let store = InMemoryEventStore()
        let processor = CommandProcessorTests().makeProcessor(store)
        try processor.handle(.add("a", 1))
        let bus = EventBus<Counter>(store: store)
        var records: [Int] = []
        try bus.subscribeRecords(after: 0) { records.append($0.position) }
        #expect(try bus.pump() == 1)
        try processor.handle(.add("a", 2))
        var envelopes: [Int] = []
        try bus.subscribe(after: 1) { envelopes.append($0.position) }
        var lateRecords: [Int] = []
        let late = try bus.subscribeRecords(after: 0) { lateRecords.append($0.position) }
        #expect(try bus.pump() == 1)
        bus.unsubscribe(late)
        try processor.handle(.add("b", 1))
        #expect(try bus.pump() == 1)
        #expect(records == [1, 2, 3])
        #expect(envelopes == [2, 3])
        #expect(lateRecords == [1, 2])
        #expect(bus.deliveredThrough == 3)
    }

    @Test func theTimelineEqualsThePlainFoldAtEveryPosition() throws {
        let store = InMemoryEventStore()
        let processor = CommandProcessorTests().makeProcessor(store)
        for index in 0..<50 { try processor.handle(.add(index % 3 == 0 ? "a" : "b", Int8(index % 5))) }
        let timeline = Timeline(store: store, empty: Sum(), codec: Counter.self, interval: 8)
        for position in (0...50).reversed() {
            var plain = Sum()
            try plain.catchUp(from: store, codec: Counter.self, through: position)
            let travelled = try timeline.model(at: position)
            #expect(travelled.total == plain.total)
            #expect(travelled.position == position)
        }
    }
}

struct ChecksumTests {
    /// The published check values: the file format depends on these exact functions.
    @Test func crc32AndTheChainDigestMatchTheirStandardCheckValues() {
        #expect(Checksum.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(Checksum.crc32([]) == 0)
        let digest = Array("abc".utf8).withUnsafeBytes { ChainDigest(of: $0) }
        #expect(digest.description == "ba7816bf8f01cfea414140de5dae2223")
    }
}
