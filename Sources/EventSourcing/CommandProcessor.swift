/// What became of a command.
public enum CommandOutcome<Event: Sendable>: Sendable {
    /// The command's events were appended (and are durable).
    case appended([Envelope<Event>])
    /// A command with the same id was already committed: these are its events, as recorded
    /// then; nothing was appended now.
    case duplicate([Envelope<Event>])

    /// The events, whichever way they came.
    public var envelopes: [Envelope<Event>] {
        switch self {
        case .appended(let envelopes), .duplicate(let envelopes): return envelopes
        }
    }
}

/// The write side: rebuilds a ``Decider``'s state from the store, decides under the store's
/// exclusive lock after catching up on every other writer, and appends with the stream
/// versions it decided from as expectations.
///
/// Command ids are permanent: a command whose id is already in the log appends nothing and
/// returns the events recorded the first time.
///
/// Threading: one thread at a time, like the store it writes to.
public final class CommandProcessor<Domain: Decider, Codec: EventCodec> where Codec.Event == Domain.Event {
    /// The store written to.
    public let store: any EventStore
    let clock: any Clock
    let makeCommandID: () -> String
    /// The decision state as of ``position``.
    public private(set) var state: Domain.State = Domain.initialState
    /// The last position folded into ``state``.
    public private(set) var position = 0

    /// Creates a processor over `store`. Call ``catchUp()`` or ``handle(_:commandID:)`` to use it.
    public init(store: any EventStore, clock: any Clock, makeCommandID: @escaping () -> String) {
        self.store = store
        self.clock = clock
        self.makeCommandID = makeCommandID
    }

    /// Folds every record committed after ``position`` into ``state``.
    public func catchUp() throws {
        let last = store.lastPosition
        guard position < last else { return }
        try store.forEachRecord(from: position + 1, through: last) { record in
            let event = try Codec.decode(record)
            Domain.evolve(&state, with: event)
            position = record.position
        }
    }

    /// Decides `command` and appends its events, durably.
    ///
    /// - Parameter commandID: the caller's idempotency key; a fresh id is made when nil.
    /// - Throws: `Domain.Rejection` when the rules refuse the command (nothing appended);
    ///   ``StoreError`` for a store failure (nothing acknowledged).
    @discardableResult
    public func handle(_ command: Domain.Command, commandID: String? = nil) throws -> CommandOutcome<Domain.Event> {
        try store.withExclusiveAccess {
            try catchUp()
            if let commandID, let earlier = try store.positions(ofCommand: commandID) {
                return .duplicate(try envelopes(earlier))
            }
            let events = try Domain.decide(command, state: state)
            guard !events.isEmpty else { return .appended([]) }
            let records = events.map(Codec.encode)
            var expected: [String: Int] = [:]
            for stream in Domain.streams(readBy: command) + records.map(\.stream) {
                expected[stream] = try store.streamVersion(of: stream)
            }
            let id = commandID ?? makeCommandID()
            let timestamp = clock.now()
            let range = try store.append(records, commandID: id, timestamp: timestamp, expectedVersions: expected)
            // Under the lock nothing came between: the decided events are exactly what was
            // appended, so they are folded and described as they are instead of read back.
            var versions = expected
            var appended: [Envelope<Domain.Event>] = []
            for (offset, (event, record)) in zip(events, records).enumerated() {
                versions[record.stream, default: 0] += 1
                appended.append(
                    Envelope(
                        metadata: EventMetadata(
                            position: range.lowerBound + offset, stream: record.stream,
                            streamVersion: versions[record.stream, default: 0], timestamp: timestamp, commandID: id,
                            typeName: record.typeName, schemaVersion: record.schemaVersion), event: event))
                Domain.evolve(&state, with: event)
            }
            position = range.upperBound
            return .appended(appended)
        }
    }

    private func envelopes(_ range: ClosedRange<Int>) throws -> [Envelope<Domain.Event>] {
        var result: [Envelope<Domain.Event>] = []
        try store.forEachRecord(from: range.lowerBound, through: range.upperBound) { record in
            result.append(Envelope(metadata: record.metadata, event: try Codec.decode(record)))
        }
        return result
    }
}

/// A command to decide as part of a group (see ``CommandProcessor/handleGroup(_:commitEvery:)``).
public struct PlannedCommand<Command: Sendable>: Sendable {
    /// What is asked.
    public var command: Command
    /// The idempotency key; a fresh id is made when nil.
    public var commandID: String?
    /// When the command happened; the clock's time when nil (the demo supplies its own).
    public var timestamp: Timestamp?

    /// Creates a planned command.
    public init(_ command: Command, commandID: String? = nil, timestamp: Timestamp? = nil) {
        self.command = command
        self.commandID = commandID
        self.timestamp = timestamp
    }
}

/// What became of a group of commands.
public struct GroupOutcome<Rejection: Error> {
    /// How many commands appended events.
    public var acceptedCommands = 0
    /// How many events were appended.
    public var appendedEvents = 0
    /// The rejected commands, by index in the group, with why.
    public var rejections: [(index: Int, rejection: Rejection)] = []
}

extension CommandProcessor {
    /// Decides `commands` in order, each against the state its predecessors left, and appends
    /// the accepted ones with group commit: one write and one `fdatasync` per `commitEvery`
    /// commands. Each command's events still commit together or not at all.
    ///
    /// Holds the exclusive lock throughout, so no other writer interleaves: the decisions need
    /// no expected stream versions, and after each write the state decided from is the state
    /// of the log, so it is kept rather than read back. A command whose id is already in the
    /// log, or earlier in the group, is skipped.
    public func handleGroup(
        _ commands: [PlannedCommand<Domain.Command>], commitEvery: Int = 4096
    ) throws -> GroupOutcome<Domain.Rejection> {
        try store.withExclusiveAccess {
            try catchUp()
            var outcome = GroupOutcome<Domain.Rejection>()
            var working = state
            var batches: [AppendBatch] = []
            batches.reserveCapacity(min(commitEvery, commands.count))
            var pendingIDs = Set<String>()
            func flush() throws {
                guard !batches.isEmpty else { return }
                try store.append(batches)
                state = working
                position = store.lastPosition
                batches.removeAll(keepingCapacity: true)
                pendingIDs.removeAll(keepingCapacity: true)
            }
            for (index, planned) in commands.enumerated() {
                if let id = planned.commandID {
                    if pendingIDs.contains(id) { continue }
                    if try store.positions(ofCommand: id) != nil { continue }
                }
                let events: [Domain.Event]
                do throws(Domain.Rejection) {
                    events = try Domain.decide(planned.command, state: working)
                } catch {
                    outcome.rejections.append((index, error))
                    continue
                }
                guard !events.isEmpty else { continue }
                for event in events { Domain.evolve(&working, with: event) }
                let commandID = planned.commandID ?? makeCommandID()
                pendingIDs.insert(commandID)
                batches.append(
                    AppendBatch(
                        events: events.map(Codec.encode), commandID: commandID,
                        timestamp: planned.timestamp ?? clock.now()))
                outcome.acceptedCommands += 1
                outcome.appendedEvents += events.count
                if batches.count >= commitEvery { try flush() }
            }
            try flush()
            return outcome
        }
    }
}
