/// An append-only log of events: positions gapless from 1, appends atomic per batch.
///
/// Threading: a store is owned by one thread (or one actor) at a time; it is not safe to call
/// from two threads at once. Several processes may share one file store: appends are
/// serialised by a file lock, and ``refresh()`` brings in what other processes appended.
public protocol EventStore: AnyObject {
    /// The last committed position this store has seen, 0 when empty.
    var lastPosition: Int { get }

    /// A one-line account of what opening had to repair (a torn tail cut off), if anything.
    var recoveryNotice: String? { get }

    /// Brings in records committed by other processes since the last look. The file store
    /// does not wait for a writer holding the lock: it returns 0 and the next call catches up.
    ///
    /// - Returns: how many new events were found.
    /// - Throws: ``StoreError`` when the new bytes are damaged or cannot be read.
    @discardableResult
    func refresh() throws -> Int

    /// Calls `body` with each committed record from `from` through `through`, in order.
    ///
    /// The ``RecordView`` borrows the store's buffer: copy what you keep.
    func forEachRecord(from: Int, through: Int, _ body: (RecordView) throws -> Void) throws

    /// The current version of `stream` (the number of events in it), 0 if it has none.
    ///
    /// - Throws: ``StoreError`` if the log must be read to find it and cannot be.
    func streamVersion(of stream: String) throws -> Int

    /// The positions of the events that the command with `id` appended, if it appended any.
    func positions(ofCommand id: String) throws -> ClosedRange<Int>?

    /// Runs `body` holding the store's exclusive write lock, after catching up on every record
    /// committed by other processes. Appends inside `body` are atomic with the decision made in
    /// it. Re-entrant.
    @discardableResult
    func withExclusiveAccess<Result>(_ body: () throws -> Result) throws -> Result

    /// Appends `batches` as one write and one sync (group commit); each batch's events commit
    /// together or not at all. Returns the positions assigned. When it returns, the events are
    /// durable.
    ///
    /// - Throws: ``StoreError`` with ``StoreError/Code/conflict`` when a batch's expected stream
    ///   versions are stale, or an I/O failure (nothing acknowledged).
    @discardableResult
    func append(_ batches: [AppendBatch]) throws -> ClosedRange<Int>
}

extension EventStore {
    /// Appends the events of one command atomically and durably.
    @discardableResult
    public func append(
        _ events: [NewEvent], commandID: String, timestamp: Timestamp, expectedVersions: [String: Int] = [:]
    ) throws -> ClosedRange<Int> {
        try append([
            AppendBatch(events: events, commandID: commandID, timestamp: timestamp, expectedVersions: expectedVersions)
        ])
    }

    /// The committed records from `from` through `through` as owned values.
    public func storedEvents(from: Int = 1, through: Int? = nil) throws -> [StoredEvent] {
        var result: [StoredEvent] = []
        let last = min(through ?? lastPosition, lastPosition)
        guard from <= last else { return [] }
        try forEachRecord(from: max(from, 1), through: last) { result.append($0.storedEvent) }
        return result
    }
}

/// The shared machinery of the stores that keep a ``LogIndex``.
protocol IndexedEventStore: EventStore {
    var index: LogIndex { get set }
}

extension IndexedEventStore {
    public var lastPosition: Int { index.lastPosition }

    public func streamVersion(of stream: String) throws -> Int {
        try buildStreamVersionsIfNeeded()
        return index.streamVersion(of: stream)
    }

    /// Reads every stream's version from the log, the first time a writer needs them.
    func buildStreamVersionsIfNeeded() throws {
        guard !index.hasStreamVersions else { return }
        var versions: [String: Int] = [:]
        if index.lastPosition > 0 {
            try forEachRecord(from: 1, through: index.lastPosition) { versions[$0.stream] = $0.streamVersion }
        }
        index.buildStreamVersions(versions)
    }

    /// The positions of the events that the command with `id` appended, if it appended any.
    public func positions(ofCommand id: String) throws -> ClosedRange<Int>? {
        guard index.lastPosition > 0 else { return nil }
        if !index.hasCommandIndex {
            var ids: [(hash: UInt64, position: Int)] = []
            ids.reserveCapacity(index.lastPosition)
            try forEachRecord(from: 1, through: index.lastPosition) { record in
                ids.append((LogIndex.hash(record.commandIDBytes), record.position))
            }
            index.buildCommandIndex(ids)
        }
        if let candidate = index.candidatePosition(ofCommand: id),
            let found = try commandRange(startingAt: candidate, id: id)
        {
            return found
        }
        // A hash collision (or no hit): look through the log itself.
        var first: Int?
        try forEachRecord(from: 1, through: index.lastPosition) { record in
            if first == nil, record.hasCommandID(id) { first = record.position }
        }
        guard let first else { return nil }
        return try commandRange(startingAt: first, id: id)
    }

    private func commandRange(startingAt start: Int, id: String) throws -> ClosedRange<Int>? {
        var end: Int?
        var done = false
        try forEachRecord(from: start, through: index.lastPosition) { record in
            guard !done else { return }
            guard record.hasCommandID(id) else {
                done = true
                return
            }
            end = record.position
            if record.completesAppend { done = true }
        }
        guard let end else { return nil }
        return start...end
    }
}

/// Parses consecutive frames in `bytes` (already validated when indexed) and calls `body`
/// for each, checking that positions run on from `firstPosition`.
func forEachFrame(
    in bytes: UnsafeRawBufferPointer, firstPosition: Int, baseOffset: Int, path: String?,
    _ body: (RecordView) throws -> Void
) throws {
    var cursor = 0
    var expected = firstPosition
    while cursor < bytes.count {
        let bodyStart = cursor + RecordFormat.frameHeaderSize
        let length =
            bytes.count - cursor >= RecordFormat.frameHeaderSize
            ? Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: cursor, as: UInt32.self))) : 0
        guard length >= RecordFormat.minimumBodySize, bodyStart + length <= bytes.count,
            let view = try? RecordView(body: UnsafeRawBufferPointer(rebasing: bytes[bodyStart..<(bodyStart + length)])),
            view.position == expected
        else {
            throw StoreError(
                .corrupt,
                "record at byte offset \(baseOffset + cursor) (position \(expected)) changed after it was verified",
                path: path, offset: baseOffset + cursor, position: expected)
        }
        try body(view)
        cursor = bodyStart + length
        expected += 1
    }
}
