/// What the store knows about its committed records: where each position lives, every
/// stream's version, which command produced which events, and the chain's last digest.
///
/// Shared by the file store and the in-memory store, which differ only in where the bytes are.
struct LogIndex {
    /// Byte offset of the frame of position `p`, at index `p - 1`.
    private(set) var offsets: [Int] = []
    /// The byte offset just past the last committed record.
    private(set) var committedEnd: Int
    /// The chain digest of the last committed record's body (or of the header).
    private(set) var lastDigest: ChainDigest
    private var streamVersions: [String: Int] = [:]
    /// FNV-1a hash of a command id → position of the first event it produced. A hash can
    /// collide; lookups confirm against the record itself. Built on the first lookup (readers
    /// such as the TUI never need it, and it costs an entry per event), then kept up to date.
    private var commandPositions: [UInt64: Int]?

    init(headerEnd: Int, initialDigest: ChainDigest) {
        committedEnd = headerEnd
        lastDigest = initialDigest
    }

    /// The last committed position, 0 when empty.
    var lastPosition: Int { offsets.count }

    func streamVersion(of stream: String) -> Int { streamVersions[stream, default: 0] }

    /// Whether the command index has been built.
    var hasCommandIndex: Bool { commandPositions != nil }

    /// The position a command id's hash points to; nil when absent or the index is not built.
    func candidatePosition(ofCommand id: String) -> Int? {
        commandPositions?[LogIndex.hash(id.utf8)]
    }

    /// Builds the command index from every committed record's command-id hash, in order.
    mutating func buildCommandIndex(_ hashes: [(hash: UInt64, position: Int)]) {
        var positions: [UInt64: Int] = [:]
        positions.reserveCapacity(hashes.count)
        for entry in hashes where positions[entry.hash] == nil { positions[entry.hash] = entry.position }
        commandPositions = positions
    }

    /// Byte range `[offset of from, offset past through)` of committed positions.
    func byteRange(from: Int, through: Int) -> Range<Int> {
        let start = offsets[from - 1]
        let end = through < offsets.count ? offsets[through] : committedEnd
        return start..<end
    }

    static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// Where a scan stopped.
    enum Stop: Equatable {
        /// Every byte was consumed by committed records.
        case end
        /// The bytes from `offset` do not (yet) form a whole committed append.
        case incomplete(offset: Int)
        /// The bytes at `offset` are damaged; `position` is the position expected there.
        case damaged(offset: Int, position: Int, problem: String, frame: RecordFormat.Frame?)
    }

    /// Validates and indexes the records in `bytes`, which start at file offset `baseOffset`
    /// (which must be ``committedEnd``). Only whole appends are indexed: records of an append
    /// whose last record is missing are left out, and the stop says where they began.
    mutating func scan(_ bytes: UnsafeRawBufferPointer, baseOffset: Int) -> Stop {
        precondition(baseOffset == committedEnd, "scan must continue from the committed end")
        var cursor = 0
        var position = lastPosition + 1
        var digest = lastDigest
        var pending: [(offset: Int, stream: String, streamVersion: Int, commandHash: UInt64)] = []
        while cursor < bytes.count {
            let frame = RecordFormat.frame(in: bytes, at: cursor)
            guard case .record(let bodyLength) = frame else {
                if frame == .incomplete { return .incomplete(offset: baseOffset + (pending.first?.offset ?? cursor)) }
                return .damaged(
                    offset: baseOffset + cursor, position: position,
                    problem: frame == .badHeader ? "record length is damaged" : "record checksum does not match",
                    frame: frame)
            }
            let bodyStart = cursor + RecordFormat.frameHeaderSize
            let body = UnsafeRawBufferPointer(rebasing: bytes[bodyStart..<(bodyStart + bodyLength)])
            let view: RecordView
            do {
                view = try RecordView(body: body)
            } catch {
                return .damaged(
                    offset: baseOffset + cursor, position: position, problem: "record fields are malformed", frame: nil)
            }
            guard view.position == position else {
                return .damaged(
                    offset: baseOffset + cursor, position: position,
                    problem: "record holds position \(view.position) where \(position) was expected", frame: nil)
            }
            guard view.previousDigest == digest else {
                return .damaged(
                    offset: baseOffset + cursor, position: position,
                    problem: "chain broken: record does not match the digest of the record before it", frame: nil)
            }
            digest = ChainDigest(of: body)
            pending.append(
                (
                    cursor, view.stream, view.streamVersion,
                    commandPositions == nil ? 0 : LogIndex.hash(view.commandIDBytes)
                ))
            cursor = bodyStart + bodyLength
            position += 1
            if view.completesAppend {
                for record in pending {
                    offsets.append(baseOffset + record.offset)
                    streamVersions[record.stream] = record.streamVersion
                    if commandPositions != nil, commandPositions?[record.commandHash] == nil {
                        commandPositions?[record.commandHash] = offsets.count
                    }
                }
                pending.removeAll(keepingCapacity: true)
                committedEnd = baseOffset + cursor
                lastDigest = digest
            }
        }
        if let first = pending.first { return .incomplete(offset: baseOffset + first.offset) }
        return .end
    }

    /// Encodes `batches` as records following the committed log, each batch ending with a
    /// commit mark. Returns the bytes; the index is not changed until ``scan`` of those bytes.
    ///
    /// - Throws: ``StoreError/Code/conflict`` when a batch's expected stream versions do not
    ///   match the versions left by the log and the batches before it.
    func encode(_ batches: [AppendBatch]) throws(StoreError) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(batches.reduce(0) { $0 + $1.events.count } * 128)
        var position = lastPosition
        var digest = lastDigest
        var versions: [String: Int] = [:]
        for batch in batches {
            try LogIndex.validate(batch)
            for (stream, expected) in batch.expectedVersions {
                let actual = versions[stream] ?? streamVersion(of: stream)
                guard actual == expected else {
                    throw StoreError(.conflict, "stream \(stream) is at version \(actual), expected \(expected)")
                }
            }
            for (index, event) in batch.events.enumerated() {
                position += 1
                let version = versions[event.stream] ?? streamVersion(of: event.stream)
                versions[event.stream] = version + 1
                digest = RecordFormat.appendRecord(
                    to: &buffer, position: position, previousDigest: digest, timestamp: batch.timestamp,
                    streamVersion: version + 1, event: event, commandID: batch.commandID,
                    completesAppend: index == batch.events.count - 1)
            }
        }
        return buffer
    }
}

extension LogIndex {
    /// Checks that the record format can hold `batch`.
    static func validate(_ batch: AppendBatch) throws(StoreError) {
        guard !batch.events.isEmpty else { throw StoreError(.invalidAppend, "an append needs at least one event") }
        guard batch.commandID.utf8.count <= 255 else {
            throw StoreError(.invalidAppend, "command id is over 255 bytes")
        }
        for event in batch.events {
            guard event.stream.utf8.count <= 255, event.typeName.utf8.count <= 255 else {
                throw StoreError(.invalidAppend, "stream or type name is over 255 bytes")
            }
            guard event.payload.count <= RecordFormat.maximumBodySize - RecordFormat.minimumBodySize - 3 * 255 else {
                throw StoreError(
                    .invalidAppend, "event payload of \(event.payload.count) bytes is over the record size limit")
            }
        }
    }
}

/// The events of one command, appended together or not at all.
public struct AppendBatch: Sendable, Equatable {
    /// The events, in order; must not be empty.
    public var events: [NewEvent]
    /// The id of the command that produced them.
    public var commandID: String
    /// When the command was accepted.
    public var timestamp: Timestamp
    /// For optimistic concurrency: each stream's version the decision was made at.
    public var expectedVersions: [String: Int]

    /// Creates a batch.
    public init(events: [NewEvent], commandID: String, timestamp: Timestamp, expectedVersions: [String: Int] = [:]) {
        self.events = events
        self.commandID = commandID
        self.timestamp = timestamp
        self.expectedVersions = expectedVersions
    }
}
