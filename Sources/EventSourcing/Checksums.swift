import CCrypto
import CDeflate

/// Checksums and digests used by the record format, computed by libdeflate and libcrypto.
public enum Checksum {
    /// The CRC-32 (the zlib and gzip polynomial) of `bytes`.
    @inline(__always)
    public static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        return libdeflate_crc32(0, base, bytes.count)
    }

    /// The CRC-32 of `bytes`.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { crc32($0) }
    }
}

/// The 16-byte chain digest: the first half of the SHA-256 of a record's body.
///
/// Each record stores the digest of the record before it, so that a record edited with its
/// own checksum recomputed no longer matches what its successor says about it.
public struct ChainDigest: Hashable, Sendable, CustomStringConvertible {
    /// The digest's two halves, in file order.
    public var high: UInt64
    public var low: UInt64

    /// The digest that precedes the first record of a file.
    public static let zero = ChainDigest(high: 0, low: 0)

    /// Creates a digest from its two 8-byte halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The chain digest of a record body.
    public init(of bytes: UnsafeRawBufferPointer) {
        var out = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &out) { outBytes in
            tally_sha256(bytes.baseAddress, bytes.count, outBytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
        }
        self.init(high: out.0, low: out.1)
    }

    /// Reads a digest stored at `offset` in `bytes`.
    public init(loadingFrom bytes: UnsafeRawBufferPointer, at offset: Int) {
        self.init(
            high: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self),
            low: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
    }

    /// The digest as 32 lowercase hexadecimal digits.
    public var description: String {
        var result = ""
        withUnsafeBytes(of: (high, low)) { bytes in
            for byte in bytes {
                let hex = String(byte, radix: 16)
                result += hex.count == 1 ? "0" + hex : hex
            }
        }
        return result
    }
}
