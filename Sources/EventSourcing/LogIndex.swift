import Dispatch

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
    /// Every stream's version. Built on first need (only writers need it: a reader opening a
    /// million events should not make a million strings), then kept up to date.
    private var streamVersions: [String: Int]?
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

    /// Whether the stream versions have been built.
    var hasStreamVersions: Bool { streamVersions != nil }

    /// The version of `stream`.
    ///
    /// - Precondition: the stream versions have been built (``buildStreamVersions(_:)``).
    func streamVersion(of stream: String) -> Int {
        guard let streamVersions else { preconditionFailure("stream versions are built before they are read") }
        return streamVersions[stream, default: 0]
    }

    /// Sets every stream's version, as read from every committed record.
    mutating func buildStreamVersions(_ versions: [String: Int]) {
        streamVersions = versions
    }

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
    ///
    /// Three passes: the frames are walked by their lengths (cheap, in order); then every
    /// record's checksum, fields, position and chain link are checked, split across the cores
    /// when there are many (each link needs only its predecessor's body, so the checks are
    /// independent); then whole appends are indexed. The first problem in file order is the
    /// one reported, whichever pass found it.
    mutating func scan(_ bytes: UnsafeRawBufferPointer, baseOffset: Int) -> Stop {
        precondition(baseOffset == committedEnd, "scan must continue from the committed end")
        // 1. Frames.
        var starts: [Int] = []
        starts.reserveCapacity(bytes.count / 64)
        var cursor = 0
        var structural: RecordFormat.Frame?
        while cursor < bytes.count {
            let length = RecordFormat.frameLength(in: bytes, at: cursor)
            guard case .record(let bodyLength) = length else {
                structural = length
                break
            }
            starts.append(cursor)
            cursor += RecordFormat.frameHeaderSize + bodyLength
        }
        // 2. Checks.
        let firstPosition = lastPosition + 1
        let failure = RecordChecks.firstFailure(
            in: bytes, starts: starts, firstPosition: firstPosition, previousDigest: lastDigest)
        // 3. Whole appends among the good records.
        let good = failure?.index ?? starts.count
        var committed = 0
        for index in 0..<good where RecordChecks.body(in: bytes, at: starts[index])[38] & RecordFormat.commitFlag != 0 {
            committed = index + 1
        }
        if committed > 0 {
            for index in 0..<committed {
                let start = starts[index]
                offsets.append(baseOffset + start)
                guard streamVersions != nil || commandPositions != nil else { continue }
                // These bytes are the ones pass 2 parsed without error (every index below
                // `good` passed), so a failure here is a bug in this scan, not bad input.
                guard let view = try? RecordView(body: RecordChecks.body(in: bytes, at: start)) else {
                    preconditionFailure("a record that passed its checks no longer parses")
                }
                streamVersions?[view.stream] = view.streamVersion
                if commandPositions != nil {
                    let hash = LogIndex.hash(view.commandIDBytes)
                    if commandPositions?[hash] == nil { commandPositions?[hash] = offsets.count }
                }
            }
            let last = RecordChecks.body(in: bytes, at: starts[committed - 1])
            lastDigest = ChainDigest(of: last)
            committedEnd = baseOffset + starts[committed - 1] + RecordFormat.frameHeaderSize + last.count
        }
        if let failure {
            return .damaged(
                offset: baseOffset + starts[failure.index], position: firstPosition + failure.index,
                problem: failure.problem, frame: failure.frame)
        }
        if structural == .badHeader {
            return .damaged(
                offset: baseOffset + cursor, position: firstPosition + starts.count,
                problem: "record length is damaged",
                frame: .badHeader)
        }
        if committed < starts.count { return .incomplete(offset: baseOffset + starts[committed]) }
        if structural == .incomplete { return .incomplete(offset: baseOffset + cursor) }
        return .end
    }

    /// Records encoded for an append, with what the index needs to take them in without
    /// reading them back.
    struct EncodedAppend {
        var bytes: [UInt8] = []
        /// Offsets of each record's frame within `bytes`.
        var starts: [Int] = []
        /// The chain digest of the last record's body.
        var lastDigest: ChainDigest
        /// The streams' versions after the append.
        var streamVersions: [String: Int] = [:]
        /// Each record's command-id hash (0 when the command index is not built).
        var commandHashes: [UInt64] = []
    }

    /// Encodes `batches` as records following the committed log, each batch ending with a
    /// commit mark. The index is not changed until ``commit(_:at:)``.
    ///
    /// - Precondition: the stream versions have been built.
    /// - Throws: ``StoreError/Code/conflict`` when a batch's expected stream versions do not
    ///   match the versions left by the log and the batches before it.
    func encode(_ batches: [AppendBatch]) throws(StoreError) -> EncodedAppend {
        var encoded = EncodedAppend(lastDigest: lastDigest)
        let count = batches.reduce(0) { $0 + $1.events.count }
        var writer = ByteWriter(capacity: count * 128)
        encoded.starts.reserveCapacity(count)
        var position = lastPosition
        for batch in batches {
            try LogIndex.validate(batch)
            for (stream, expected) in batch.expectedVersions {
                let actual = encoded.streamVersions[stream] ?? streamVersion(of: stream)
                guard actual == expected else {
                    throw StoreError(.conflict, "stream \(stream) is at version \(actual), expected \(expected)")
                }
            }
            let commandHash = commandPositions == nil ? 0 : LogIndex.hash(batch.commandID.utf8)
            for (index, event) in batch.events.enumerated() {
                position += 1
                let version = (encoded.streamVersions[event.stream] ?? streamVersion(of: event.stream)) + 1
                encoded.streamVersions[event.stream] = version
                encoded.starts.append(writer.count)
                encoded.commandHashes.append(commandHash)
                encoded.lastDigest = RecordFormat.appendRecord(
                    to: &writer, position: position, previousDigest: encoded.lastDigest,
                    timestamp: batch.timestamp, streamVersion: version, event: event, commandID: batch.commandID,
                    completesAppend: index == batch.events.count - 1)
            }
        }
        encoded.bytes = writer.bytes
        return encoded
    }

    /// Takes in records from ``encode(_:)`` once they are written at file offset `start`
    /// (which must be ``committedEnd``).
    mutating func commit(_ encoded: EncodedAppend, at start: Int) {
        precondition(start == committedEnd, "an append is written at the committed end")
        for (index, recordStart) in encoded.starts.enumerated() {
            offsets.append(start + recordStart)
            if commandPositions != nil, commandPositions?[encoded.commandHashes[index]] == nil {
                commandPositions?[encoded.commandHashes[index]] = offsets.count
            }
        }
        for (stream, version) in encoded.streamVersions { streamVersions?[stream] = version }
        committedEnd = start + encoded.bytes.count
        lastDigest = encoded.lastDigest
    }
}

/// The per-record checks of a scan's second pass.
enum RecordChecks {
    /// A record that failed, by index among the records checked.
    struct Failure {
        var index: Int
        var problem: String
        var frame: RecordFormat.Frame?
    }

    /// Below this many records one core checks them all: splitting costs more than it saves.
    static let parallelThreshold = 4096

    @inline(__always)
    static func body(in bytes: UnsafeRawBufferPointer, at start: Int) -> UnsafeRawBufferPointer {
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: start, as: UInt32.self)))
        let bodyStart = start + RecordFormat.frameHeaderSize
        return UnsafeRawBufferPointer(rebasing: bytes[bodyStart..<(bodyStart + length)])
    }

    /// The first record among those framed at `starts` that fails its checksum, its fields,
    /// its position or its chain link; nil when all pass.
    static func firstFailure(
        in bytes: UnsafeRawBufferPointer, starts: [Int], firstPosition: Int, previousDigest: ChainDigest
    ) -> Failure? {
        guard starts.count >= parallelThreshold else {
            return check(bytes, starts, 0..<starts.count, firstPosition, previousDigest)
        }
        let middle = starts.count / 2
        let halves = [0..<middle, middle..<starts.count]
        let results = UnsafeMutableBufferPointer<Failure?>.allocate(capacity: 2)
        results.initialize(repeating: nil)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        let shared = Shared(bytes: bytes, results: results)
        DispatchQueue.concurrentPerform(iterations: 2) { half in
            let range = halves[half]
            // The second half's first link is checked against the digest of the body before it.
            let before =
                half == 0 ? previousDigest : ChainDigest(of: body(in: shared.bytes, at: starts[range.lowerBound - 1]))
            shared.results[half] = check(shared.bytes, starts, range, firstPosition, before)
        }
        return results[0] ?? results[1]
    }

    /// What the two halves share: the bytes (read only) and one result slot each.
    private struct Shared: @unchecked Sendable {
        let bytes: UnsafeRawBufferPointer
        let results: UnsafeMutableBufferPointer<Failure?>
    }

    private static func check(
        _ bytes: UnsafeRawBufferPointer, _ starts: [Int], _ range: Range<Int>, _ firstPosition: Int,
        _ previousDigest: ChainDigest
    ) -> Failure? {
        var digest = previousDigest
        for index in range {
            let start = starts[index]
            let body = body(in: bytes, at: start)
            let crc = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: start + 8, as: UInt32.self))
            guard Checksum.crc32(body) == crc else {
                return Failure(index: index, problem: "record checksum does not match", frame: .badChecksum)
            }
            guard let view = try? RecordView(body: body) else {
                return Failure(index: index, problem: "record fields are malformed", frame: nil)
            }
            let position = firstPosition + index
            guard view.position == position else {
                return Failure(
                    index: index, problem: "record holds position \(view.position) where \(position) was expected",
                    frame: nil)
            }
            guard view.previousDigest == digest else {
                return Failure(
                    index: index, problem: "chain broken: record does not match the digest of the record before it",
                    frame: nil)
            }
            digest = ChainDigest(of: body)
        }
        return nil
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
