/// An event store held in memory, in exactly the file store's record format: for tests and
/// for what-if sessions that must not touch a file.
public final class InMemoryEventStore: IndexedEventStore {
    /// The store's bytes, header included: what a file store would hold on disk.
    public private(set) var bytes: [UInt8]
    var index: LogIndex

    /// Creates an empty store.
    public init() {
        bytes = RecordFormat.makeHeader()
        index = LogIndex(headerEnd: bytes.count, initialDigest: RecordFormat.initialDigest(header: bytes))
    }

    public var recoveryNotice: String? { nil }

    public func refresh() throws -> Int { 0 }

    public func forEachRecord(from: Int, through: Int, _ body: (RecordView) throws -> Void) throws {
        guard from >= 1, from <= through, through <= index.lastPosition else { return }
        let range = index.byteRange(from: from, through: through)
        try bytes.withUnsafeBytes { all in
            try forEachFrame(
                in: UnsafeRawBufferPointer(rebasing: all[range]), firstPosition: from, baseOffset: range.lowerBound,
                path: nil, body)
        }
    }

    @discardableResult
    public func withExclusiveAccess<Result>(_ body: () throws -> Result) throws -> Result {
        try body()
    }

    public func append(_ batches: [AppendBatch]) throws -> ClosedRange<Int> {
        let first = index.lastPosition + 1
        try buildStreamVersionsIfNeeded()
        let encoded = try index.encode(batches)
        let start = bytes.count
        bytes.append(contentsOf: encoded.bytes)
        index.commit(encoded, at: start)
        return first...index.lastPosition
    }
}
