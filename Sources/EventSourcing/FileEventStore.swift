import Glibc

/// The embedded event store: one append-only file, checksummed and hash-chained records,
/// durable (`fdatasync`) before an append returns, serialised across processes by `flock`.
///
/// Opening validates every record. An append that never finished (a torn write) is cut off and
/// reported in ``recoveryNotice``; damage anywhere else is refused with its byte offset and
/// position, never skipped. After a failed write or sync this instance refuses further writes:
/// what the disk holds is no longer known, and retrying could hide lost data.
///
/// Threading: one thread at a time (see ``EventStore``).
public final class FileEventStore: IndexedEventStore {
    /// The file's path.
    public let path: String
    /// How long to wait for another process's lock before giving up, in milliseconds.
    public let lockTimeoutMilliseconds: Int
    /// Whether this instance may create the file and cut a torn tail.
    public let repairing: Bool
    public private(set) var recoveryNotice: String?

    var index: LogIndex
    private let descriptor: Int32
    private var heldLock: Int32 = LOCK_UN
    private var lockDepth = 0
    private var writeFailure: StoreError?
    /// Fault injection for tests: when set, the next syncs fail with this `errno` (the bytes
    /// are still written, as when a disk reports a failed flush).
    var syncFailureForTesting: Int32?
    private var buffer: [UInt8] = []

    /// The read size for scans and replays.
    static let chunkSize = 4 << 20

    /// Opens the store at `path`, creating it (and its directory) if it does not exist.
    ///
    /// - Throws: ``StoreError``: `.corrupt` naming the offset and position of the first bad
    ///   record, `.locked` if another process holds the lock past the wait, `.io` otherwise.
    ///
    /// - Parameter repairing: when false (for `verify`), nothing is created or cut: a torn tail
    ///   is only reported in ``recoveryNotice``, and a missing or empty file is an error.
    public init(path: String, lockTimeoutMilliseconds: Int = 10_000, repairing: Bool = true) throws {
        self.path = path
        self.repairing = repairing
        self.lockTimeoutMilliseconds = lockTimeoutMilliseconds
        if repairing { try FileEventStore.makeParentDirectory(of: path) }
        let fd = repairing ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw StoreError(.io, "cannot open: \(FileEventStore.describe(errno))", path: path, systemError: errno)
        }
        descriptor = fd
        index = LogIndex(headerEnd: RecordFormat.headerSize, initialDigest: .zero)
        // Every stored property is set by now, so if validation throws, deinit still runs
        // and closes the descriptor (closing it here too could close another file's reuse of
        // the number).
        if repairing {
            try withExclusiveAccess {}
        } else {
            _ = try refresh(waiting: true)
            if index.committedEnd == RecordFormat.headerSize, fileSize == 0 {
                throw StoreError(.corrupt, "file is empty: not a Tally event file", path: path, offset: 0)
            }
        }
    }

    deinit {
        close(descriptor)
    }

    /// The file's size in bytes.
    public var fileSize: Int {
        var info = stat()
        return fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
    }

    /// Never waits: if a writer holds the lock at this moment, returns 0 and the next call
    /// picks up its append (a follower polling every 100 ms must not freeze behind a writer).
    public func refresh() throws -> Int {
        try refresh(waiting: false)
    }

    private func refresh(waiting: Bool) throws -> Int {
        let before = index.lastPosition
        if lockDepth > 0 {
            try catchUp(mayRepair: heldLock == LOCK_EX)
        } else {
            if waiting {
                try lock(LOCK_SH)
            } else if !(try tryLock(LOCK_SH)) {
                return 0
            }
            defer { unlock() }
            try catchUp(mayRepair: false)
        }
        return index.lastPosition - before
    }

    @discardableResult
    public func withExclusiveAccess<Result>(_ body: () throws -> Result) throws -> Result {
        if lockDepth > 0 && heldLock == LOCK_EX {
            return try body()
        }
        guard repairing else { throw StoreError(.io, "store was opened read-only", path: path) }
        precondition(lockDepth == 0, "cannot upgrade a shared lock to an exclusive one")
        try lock(LOCK_EX)
        defer { unlock() }
        try catchUp(mayRepair: true)
        return try body()
    }

    public func forEachRecord(from: Int, through: Int, _ body: (RecordView) throws -> Void) throws {
        guard from >= 1, from <= through, through <= index.lastPosition else { return }
        var position = from
        while position <= through {
            // Take as many whole records as fit in one read.
            let start = index.offsets[position - 1]
            var last = position
            let limit = start + FileEventStore.chunkSize
            while last < through && index.byteRange(from: last + 1, through: last + 1).upperBound <= limit {
                last += 1
            }
            let range = index.byteRange(from: position, through: last)
            try read(range)
            try buffer.withUnsafeBytes { bytes in
                try forEachFrame(
                    in: UnsafeRawBufferPointer(rebasing: bytes[0..<range.count]), firstPosition: position,
                    baseOffset: range.lowerBound, path: path, body)
            }
            position = last + 1
        }
    }

    public func append(_ batches: [AppendBatch]) throws -> ClosedRange<Int> {
        guard repairing else { throw StoreError(.io, "store was opened read-only", path: path) }
        if let writeFailure {
            throw StoreError(
                .failedEarlier, "refusing to write after an earlier failure (\(writeFailure.message)); restart tally",
                path: path)
        }
        return try withExclusiveAccess {
            let first = index.lastPosition + 1
            try buildStreamVersionsIfNeeded()
            let encoded = try index.encode(batches)
            let start = index.committedEnd
            try encoded.bytes.withUnsafeBytes { bytes in
                var written = 0
                while written < bytes.count {
                    let result = pwrite(
                        descriptor, bytes.baseAddress! + written, bytes.count - written, off_t(start + written))
                    if result < 0 && errno == EINTR { continue }
                    guard result > 0 else {
                        let code = result < 0 ? errno : ENOSPC
                        // Take back the partial write so the file ends on a whole record.
                        if ftruncate(descriptor, off_t(start)) != 0 || fdatasync(descriptor) != 0 {
                            writeFailure = StoreError(
                                .io, "could not undo a failed write", path: path, systemError: errno)
                        }
                        throw StoreError(
                            .io, "append failed, nothing was written: \(FileEventStore.describe(code))", path: path,
                            systemError: code)
                    }
                    written += result
                }
            }
            let syncResult =
                syncFailureForTesting.map { code -> Int32 in
                    errno = code
                    return -1
                } ?? fdatasync(descriptor)
            guard syncResult == 0 else {
                let code = errno
                let failure = StoreError(
                    .io, "fdatasync failed: \(FileEventStore.describe(code)); the append is not acknowledged",
                    path: path,
                    systemError: code)
                writeFailure = failure
                throw failure
            }
            index.commit(encoded, at: start)
            return first...index.lastPosition
        }
    }

    // MARK: - Catching up and recovery

    /// Validates and indexes everything after the committed end. With `mayRepair` (holding the
    /// exclusive lock) a torn tail is cut off and reported; otherwise it is left alone.
    private func catchUp(mayRepair: Bool) throws {
        if index.committedEnd == RecordFormat.headerSize {
            try validateHeader(mayCreate: mayRepair)
        }
        let size = fileSize
        var chunk = FileEventStore.chunkSize
        while index.committedEnd < size {
            let start = index.committedEnd
            let range = start..<min(size, start + chunk)
            try read(range)
            let stop = buffer.withUnsafeBytes { bytes in
                index.scan(UnsafeRawBufferPointer(rebasing: bytes[0..<range.count]), baseOffset: start)
            }
            switch stop {
            case .end:
                continue
            case .incomplete:
                if range.upperBound < size {
                    // The chunk ended inside an append: read on (a bigger chunk if one append
                    // is larger than the chunk).
                    if index.committedEnd == start { chunk *= 2 }
                    continue
                }
                try tornTail(mayRepair: mayRepair, size: size)
                return
            case .damaged(let offset, let position, let problem, let frame):
                if frame == .badHeader, try isGarbageTail(from: offset, size: size, position: position) {
                    try tornTail(mayRepair: mayRepair, size: size)
                    return
                }
                throw StoreError(
                    .corrupt,
                    "corrupt record at byte offset \(offset) (position \(position)): \(problem); "
                        + "run `tally verify` and restore from a backup",
                    path: path, offset: offset, position: position)
            }
        }
    }

    /// Whether the bytes from `offset` to the end are a torn or garbage tail rather than a
    /// damaged record: no record is intact under either stored length, and no valid record
    /// follows.
    private func isGarbageTail(from offset: Int, size: Int, position: Int) throws -> Bool {
        try read(offset..<size)
        return buffer.withUnsafeBytes { all in
            let bytes = UnsafeRawBufferPointer(rebasing: all[0..<(size - offset)])
            if bytes.allSatisfy({ $0 == 0 }) { return true }
            return !RecordFormat.isDamagedRecord(in: bytes, at: 0)
                && RecordFormat.nextValidRecord(in: bytes, after: 0, afterPosition: position - 1) == nil
        }
    }

    private func tornTail(mayRepair: Bool, size: Int) throws {
        let cut = size - index.committedEnd
        guard mayRepair else {
            if !repairing {
                recoveryNotice =
                    "the last \(cut) byte\(cut == 1 ? " is" : "s are") an incomplete append at byte offset "
                    + "\(index.committedEnd) (after position \(index.lastPosition)); the next write will cut it"
            }
            return
        }
        guard ftruncate(descriptor, off_t(index.committedEnd)) == 0, fdatasync(descriptor) == 0 else {
            throw StoreError(
                .io, "cannot cut the torn tail: \(FileEventStore.describe(errno))", path: path, systemError: errno)
        }
        let notice =
            "recovered: cut \(cut) byte\(cut == 1 ? "" : "s") of an incomplete append at byte offset "
            + "\(index.committedEnd) (after position \(index.lastPosition))"
        recoveryNotice = recoveryNotice.map { $0 + "; " + notice } ?? notice
    }

    private func validateHeader(mayCreate: Bool) throws {
        if fileSize == 0 {
            guard mayCreate else { return }
            let header = RecordFormat.makeHeader()
            let written = header.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
            guard written == header.count, fdatasync(descriptor) == 0 else {
                throw StoreError(
                    .io, "cannot write the file header: \(FileEventStore.describe(errno))", path: path,
                    systemError: errno)
            }
            FileEventStore.syncDirectory(of: path)
        }
        let size = fileSize
        try read(0..<min(size, RecordFormat.headerSize))
        let problem = buffer.withUnsafeBytes { bytes in
            RecordFormat.headerProblem(UnsafeRawBufferPointer(rebasing: bytes[0..<min(size, RecordFormat.headerSize)]))
        }
        if let problem {
            throw StoreError(.corrupt, problem, path: path, offset: 0)
        }
        let header = Array(buffer[0..<RecordFormat.headerSize])
        index = LogIndex(headerEnd: RecordFormat.headerSize, initialDigest: RecordFormat.initialDigest(header: header))
    }

    // MARK: - System calls

    /// Reads `range` of the file into the start of `buffer`.
    private func read(_ range: Range<Int>) throws {
        if buffer.count < range.count {
            buffer = [UInt8](repeating: 0, count: max(range.count, min(FileEventStore.chunkSize, range.count * 2)))
        }
        try buffer.withUnsafeMutableBytes { bytes in
            var done = 0
            while done < range.count {
                let result = pread(
                    descriptor, bytes.baseAddress! + done, range.count - done, off_t(range.lowerBound + done))
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else {
                    throw StoreError(
                        .io,
                        "cannot read at byte offset \(range.lowerBound + done): "
                            + (result == 0 ? "file is shorter than expected" : FileEventStore.describe(errno)),
                        path: path, offset: range.lowerBound + done, systemError: result < 0 ? errno : nil)
                }
                done += result
            }
        }
    }

    private func lock(_ operation: Int32) throws {
        var waitedMicroseconds = 0
        var pause = 200
        while flock(descriptor, operation | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK else {
                throw StoreError(.io, "cannot lock: \(FileEventStore.describe(code))", path: path, systemError: code)
            }
            guard waitedMicroseconds < lockTimeoutMilliseconds * 1000 else {
                throw StoreError(
                    .locked,
                    "another tally process has held the store's lock for over \(lockTimeoutMilliseconds) ms; "
                        + "try again, or find the process holding it (fuser \(path))",
                    path: path)
            }
            usleep(UInt32(pause))
            waitedMicroseconds += pause
            pause = min(pause * 2, 5000)
        }
        heldLock = operation
        lockDepth = 1
    }

    /// Takes the lock if it is free right now; returns whether it did.
    private func tryLock(_ operation: Int32) throws -> Bool {
        while flock(descriptor, operation | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EWOULDBLOCK { return false }
            throw StoreError(.io, "cannot lock: \(FileEventStore.describe(code))", path: path, systemError: code)
        }
        heldLock = operation
        lockDepth = 1
        return true
    }

    private func unlock() {
        flock(descriptor, LOCK_UN)
        heldLock = LOCK_UN
        lockDepth = 0
    }

    private static func makeParentDirectory(of path: String) throws {
        let parents = path.split(separator: "/").dropLast()
        var current = path.hasPrefix("/") ? "" : "."
        for component in parents {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw StoreError(
                    .io, "cannot create directory \(current): \(describe(errno))", path: path, systemError: errno)
            }
        }
    }

    private static func syncDirectory(of path: String) {
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    static func describe(_ code: Int32) -> String {
        switch code {
        case ENOSPC: return "no space left on the device"
        case EFBIG: return "file size limit exceeded"
        case EACCES, EPERM: return "permission denied"
        case EROFS: return "read-only file system"
        case EIO: return "input/output error"
        default: return String(cString: strerror(code))
        }
    }
}
