/// A failure of the event store's infrastructure (not a domain rejection).
///
/// Carries a code, a one-line message, and where known the file, byte offset, position and
/// the operating system's error number.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Equatable {
        /// The file's bytes are damaged or are not a Tally event file.
        case corrupt
        /// Another process held the store's lock for longer than the wait allows.
        case locked
        /// The operating system refused a read, write, sync or open.
        case io
        /// An append's expected stream version did not match the stream's current version.
        case conflict
        /// An earlier write or sync failed in this process; further writes are refused.
        case failedEarlier
        /// An append the record format cannot hold (an empty batch, a name over 255 bytes, a
        /// record over the size limit); nothing was written.
        case invalidAppend
    }

    /// What kind of failure this is.
    public var code: Code
    /// A one-line, human-readable explanation.
    public var message: String
    /// The file concerned, if any.
    public var path: String?
    /// The byte offset of the damage, for ``Code/corrupt``.
    public var offset: Int?
    /// The position of the record at or just after the damage, for ``Code/corrupt``.
    public var position: Int?
    /// The `errno` of the failed system call, for ``Code/io``.
    public var systemError: Int32?

    /// Creates a store error.
    public init(
        _ code: Code, _ message: String, path: String? = nil, offset: Int? = nil, position: Int? = nil,
        systemError: Int32? = nil
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.offset = offset
        self.position = position
        self.systemError = systemError
    }

    public var description: String {
        var text = message
        if let path { text = "\(path): " + text }
        return text
    }
}
