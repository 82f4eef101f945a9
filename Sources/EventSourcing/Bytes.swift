/// Appends little-endian integers and length-prefixed strings to a byte buffer.
///
/// The record format and the domain payload codecs are built from it; nothing here uses
/// Foundation, so encoding stays cheap on the append path.
public struct ByteWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// Overwrites the four bytes at `offset` with `value`, little-endian (for a length or a
    /// checksum that is known only after what follows it is written).
    public mutating func patch(_ value: UInt32, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + 4), with: $0) }
    }

    /// Calls `body` with the bytes written from `offset` on.
    public func withBytes<Result>(from offset: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
    }

    /// Creates an empty writer with room for `capacity` bytes.
    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// How many bytes have been written.
    public var count: Int { bytes.count }

    /// Appends `value` in little-endian byte order.
    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends raw bytes.
    public mutating func write(bytes other: some Sequence<UInt8>) {
        bytes.append(contentsOf: other)
    }

    /// Appends a string's UTF-8 bytes after a one-byte length (strings of at most 255 bytes).
    public mutating func writeShortString(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            precondition(utf8.count <= 255, "short string over 255 bytes")
            write(UInt8(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// Appends a string's UTF-8 bytes after a two-byte length (strings of at most 65535 bytes).
    public mutating func writeString(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            precondition(utf8.count <= Int(UInt16.max), "string over 65535 bytes")
            write(UInt16(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }
}

/// Reads little-endian integers and length-prefixed strings from borrowed bytes.
///
/// Every read is bounds-checked and throws ``ByteReader/OutOfBounds`` instead of trapping, so
/// a damaged payload is reported, never misread. The reader borrows its bytes: use it only
/// while the buffer it was made from is alive.
public struct ByteReader {
    /// A read ran past the end of the bytes.
    public struct OutOfBounds: Error, Sendable {
        /// Creates the error.
        public init() {}
    }

    @usableFromInline let bytes: UnsafeRawBufferPointer
    /// The offset of the next byte to read (settable so that a decoder can skip bytes; the
    /// reads stay bounds-checked whatever it is set to).
    public var offset: Int

    /// Creates a reader over `bytes`, starting at the first byte.
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.offset = 0
    }

    /// The number of bytes not yet read.
    @inlinable
    public var remaining: Int { bytes.count - offset }

    /// Reads a little-endian integer.
    @inlinable
    public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(OutOfBounds) -> T {
        let size = MemoryLayout<T>.size
        guard offset >= 0, remaining >= size else { throw OutOfBounds() }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    /// Reads `count` raw bytes.
    @inlinable
    public mutating func readBytes(_ count: Int) throws(OutOfBounds) -> UnsafeRawBufferPointer {
        guard count >= 0, offset >= 0, remaining >= count else { throw OutOfBounds() }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        return slice
    }

    /// Reads a string written by ``ByteWriter/writeShortString(_:)``.
    public mutating func readShortString() throws(OutOfBounds) -> String {
        let count = Int(try read(UInt8.self))
        return String(decoding: try readBytes(count), as: UTF8.self)
    }

    /// Reads a string written by ``ByteWriter/writeString(_:)``.
    public mutating func readString() throws(OutOfBounds) -> String {
        let count = Int(try read(UInt16.self))
        return String(decoding: try readBytes(count), as: UTF8.self)
    }
}
