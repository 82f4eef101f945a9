import Glibc

/// The binary layout of a Tally event file. Everything is little-endian.
///
/// ```
/// file   = header record*
/// header = "TALLYLOG" (8) · format version u16 · header size u16 · CRC-32 of the first 12 bytes u32
/// record = body length u32 · bitwise NOT of body length u32 · CRC-32 of body u32 · body
/// body   = position u64 · chain digest of previous body (16) · timestamp ms i64
///          · stream version u32 · schema version u16 · flags u8
///          · type name (u8 length + UTF-8) · stream (u8 length + UTF-8)
///          · command id (u8 length + UTF-8) · payload (the rest)
/// ```
///
/// The length is stored twice (plain and inverted) so that a damaged length is recognised as
/// damage instead of being followed to a wrong place. Flag bit 0 marks the last record of an
/// append: records after the last such mark belong to an append that never finished, and
/// recovery cuts them off with the torn tail.
public enum RecordFormat {
    /// The file's magic bytes.
    public static let magic: [UInt8] = Array("TALLYLOG".utf8)
    /// The format version this code writes and reads.
    public static let version: UInt16 = 1
    /// The size of the file header.
    public static let headerSize = 16
    /// The size of a record's frame header (length, inverted length, CRC).
    public static let frameHeaderSize = 12
    /// The size of a body with empty strings and payload.
    public static let minimumBodySize = 8 + 16 + 8 + 4 + 2 + 1 + 3
    /// The largest body accepted; anything larger is damage.
    public static let maximumBodySize = 1 << 20
    /// Flag bit: this record completes its append.
    static let commitFlag: UInt8 = 1

    /// The header of a new file.
    public static func makeHeader() -> [UInt8] {
        var writer = ByteWriter(capacity: headerSize)
        writer.write(bytes: magic)
        writer.write(version)
        writer.write(UInt16(headerSize))
        let crc = writer.bytes.withUnsafeBytes { Checksum.crc32($0) }
        writer.write(crc)
        return writer.bytes
    }

    /// The chain digest that precedes the first record: the digest of the header.
    public static func initialDigest(header: [UInt8]) -> ChainDigest {
        header.withUnsafeBytes { ChainDigest(of: $0) }
    }

    /// Checks a file header; returns a message naming what is wrong, or nil if it is good.
    public static func headerProblem(_ header: UnsafeRawBufferPointer) -> String? {
        guard header.count >= headerSize else {
            return "file is \(header.count) bytes, shorter than a Tally header (\(headerSize) bytes)"
        }
        guard header.prefix(8).elementsEqual(magic) else {
            return "not a Tally event file (magic bytes do not match)"
        }
        let storedCRC = header.loadUnaligned(fromByteOffset: 12, as: UInt32.self)
        guard Checksum.crc32(UnsafeRawBufferPointer(rebasing: header[0..<12])) == UInt32(littleEndian: storedCRC) else {
            return "file header checksum does not match"
        }
        let fileVersion = UInt16(littleEndian: header.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
        guard fileVersion == version else {
            return "file format version \(fileVersion) is not supported (this tally reads version \(version))"
        }
        return nil
    }

    /// Appends one framed record to `writer` and returns the chain digest of its body. The body
    /// is written in place and checksummed and hashed where it lies.
    ///
    /// - Precondition: the type name, stream and command id are at most 255 UTF-8 bytes each
    ///   (callers validate user input long before this).
    @discardableResult
    public static func appendRecord(
        to writer: inout ByteWriter, position: Int, previousDigest: ChainDigest, timestamp: Timestamp,
        streamVersion: Int, event: NewEvent, commandID: String, completesAppend: Bool
    ) -> ChainDigest {
        let frameStart = writer.count
        writer.write(UInt32(0))  // length, inverted length and CRC: patched below
        writer.write(UInt32(0))
        writer.write(UInt32(0))
        let bodyStart = writer.count
        writer.write(UInt64(position))
        writer.write(previousDigest.high)
        writer.write(previousDigest.low)
        writer.write(timestamp.millisecondsSinceEpoch)
        writer.write(UInt32(streamVersion))
        writer.write(event.schemaVersion)
        writer.write(completesAppend ? commitFlag : 0)
        writer.writeShortString(event.typeName)
        writer.writeShortString(event.stream)
        writer.writeShortString(commandID)
        writer.write(bytes: event.payload)
        let length = UInt32(writer.count - bodyStart)
        let (crc, digest) = writer.withBytes(from: bodyStart) { body in (Checksum.crc32(body), ChainDigest(of: body)) }
        writer.patch(length, at: frameStart)
        writer.patch(~length, at: frameStart + 4)
        writer.patch(crc, at: frameStart + 8)
        return digest
    }

    /// What is found at an offset where a record should start.
    public enum Frame: Equatable, Sendable {
        /// A whole record whose checksum matches; `length` is the body length.
        case record(bodyLength: Int)
        /// Fewer bytes than the frame says it needs: a torn write, or a write in progress.
        case incomplete
        /// The length and its inverted copy disagree, or the length is impossible.
        case badHeader
        /// The body's checksum does not match.
        case badChecksum
    }

    /// Examines the frame at `offset` in `bytes`, checking its framing and checksum.
    @inline(__always)
    public static func frame(in bytes: UnsafeRawBufferPointer, at offset: Int) -> Frame {
        let frame = frameLength(in: bytes, at: offset)
        guard case .record(let length) = frame else { return frame }
        let crc = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
        let body = UnsafeRawBufferPointer(
            rebasing: bytes[(offset + frameHeaderSize)..<(offset + frameHeaderSize + length)])
        guard Checksum.crc32(body) == crc else { return .badChecksum }
        return frame
    }

    /// Examines the frame header at `offset`: `.record` if its lengths agree and the whole
    /// body is present (the checksum is not checked), `.incomplete` or `.badHeader` if not.
    @inline(__always)
    static func frameLength(in bytes: UnsafeRawBufferPointer, at offset: Int) -> Frame {
        let remaining = bytes.count - offset
        guard remaining >= frameHeaderSize else { return .incomplete }
        let length = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        let check = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        guard check == ~length, Int(length) >= minimumBodySize, Int(length) <= maximumBodySize else {
            return .badHeader
        }
        guard remaining >= frameHeaderSize + Int(length) else { return .incomplete }
        return .record(bodyLength: Int(length))
    }

    /// Whether the bytes at `offset` are a record whose header is damaged but whose body is
    /// intact under one of the two stored lengths: a damaged record, not a torn write.
    static func isDamagedRecord(in bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        let remaining = bytes.count - offset
        guard remaining >= frameHeaderSize else { return false }
        let length = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        let check = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        let crc = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self))
        for candidate in [Int(length), Int(~check)]
        where candidate >= minimumBodySize && candidate <= maximumBodySize && frameHeaderSize + candidate <= remaining {
            let body = UnsafeRawBufferPointer(
                rebasing: bytes[(offset + frameHeaderSize)..<(offset + frameHeaderSize + candidate)])
            if Checksum.crc32(body) == crc { return true }
        }
        return false
    }

    /// The offset of the first whole, checksummed record after `offset` whose position is
    /// greater than `afterPosition`, if any: evidence that damage at `offset` is not a torn tail.
    static func nextValidRecord(in bytes: UnsafeRawBufferPointer, after offset: Int, afterPosition: Int) -> Int? {
        var candidate = offset + 1
        while candidate + frameHeaderSize + minimumBodySize <= bytes.count {
            if case .record = frame(in: bytes, at: candidate) {
                let position = UInt64(
                    littleEndian: bytes.loadUnaligned(fromByteOffset: candidate + frameHeaderSize, as: UInt64.self))
                if position > UInt64(afterPosition) { return candidate }
            }
            candidate += 1
        }
        return nil
    }
}

/// A record's body, parsed in place: valid only while the bytes it was read from are.
///
/// Reading a view allocates nothing; the string accessors allocate only when called.
public struct RecordView {
    /// The body bytes (borrowed).
    public let body: UnsafeRawBufferPointer
    /// The global position.
    public let position: Int
    /// The chain digest of the previous record's body.
    public let previousDigest: ChainDigest
    /// When the event was committed.
    public let timestamp: Timestamp
    /// The version within its stream.
    public let streamVersion: Int
    /// The payload's schema version.
    public let schemaVersion: UInt16
    /// Whether this record completes its append.
    public let completesAppend: Bool
    private let typeRange: Range<Int>
    private let streamRange: Range<Int>
    private let commandRange: Range<Int>

    /// A body's internal lengths do not add up.
    public struct Malformed: Error, Sendable {}

    /// Parses `body`, checking that its internal lengths add up.
    @inline(__always)
    public init(body: UnsafeRawBufferPointer) throws(Malformed) {
        guard body.count >= RecordFormat.minimumBodySize else { throw Malformed() }
        self.body = body
        position = Int(truncatingIfNeeded: UInt64(littleEndian: body.loadUnaligned(fromByteOffset: 0, as: UInt64.self)))
        previousDigest = ChainDigest(loadingFrom: body, at: 8)
        timestamp = Timestamp(
            millisecondsSinceEpoch: Int64(littleEndian: body.loadUnaligned(fromByteOffset: 24, as: Int64.self)))
        streamVersion = Int(UInt32(littleEndian: body.loadUnaligned(fromByteOffset: 32, as: UInt32.self)))
        schemaVersion = UInt16(littleEndian: body.loadUnaligned(fromByteOffset: 36, as: UInt16.self))
        completesAppend = body[38] & RecordFormat.commitFlag != 0
        var cursor = 39
        func field() throws(Malformed) -> Range<Int> {
            guard cursor < body.count else { throw Malformed() }
            let length = Int(body[cursor])
            let start = cursor + 1
            guard start + length <= body.count else { throw Malformed() }
            cursor = start + length
            return start..<(start + length)
        }
        typeRange = try field()
        streamRange = try field()
        commandRange = try field()
        payloadStart = cursor
    }

    private let payloadStart: Int

    /// The stable type name.
    public var typeName: String { string(typeRange) }
    /// The stream the event belongs to.
    public var stream: String { string(streamRange) }
    /// The id of the command that produced the event.
    public var commandID: String { string(commandRange) }
    /// The command id's UTF-8 bytes (borrowed).
    public var commandIDBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: body[commandRange]) }
    /// The type name's UTF-8 bytes (borrowed).
    public var typeNameBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: body[typeRange]) }
    /// The stream's UTF-8 bytes (borrowed).
    public var streamBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: body[streamRange]) }
    /// The payload bytes (borrowed).
    public var payload: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: body[payloadStart...]) }

    /// Whether the type name equals `name`, without allocating.
    @inline(__always)
    public func hasTypeName(_ name: StaticString) -> Bool {
        let bytes = UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        return typeRange.count == bytes.count
            && memcmp(body.baseAddress! + typeRange.lowerBound, bytes.baseAddress!, bytes.count) == 0
    }

    /// Whether the command id equals `id`.
    public func hasCommandID(_ id: String) -> Bool {
        UnsafeRawBufferPointer(rebasing: body[commandRange]).elementsEqual(id.utf8)
    }

    /// The record's metadata as values.
    public var metadata: EventMetadata {
        EventMetadata(
            position: position, stream: stream, streamVersion: streamVersion, timestamp: timestamp,
            commandID: commandID, typeName: typeName, schemaVersion: schemaVersion)
    }

    /// The record as an owned value.
    public var storedEvent: StoredEvent {
        StoredEvent(metadata: metadata, payload: Array(payload))
    }

    private func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: body[range]), as: UTF8.self)
    }
}
