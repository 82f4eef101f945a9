// libFuzzer target: the record decoder and store recovery on hostile bytes.
// Build and run with Fuzz/run.sh record [seconds].
import Bank
import EventSourcing
import Glibc

let path = "/dev/shm/tally-fuzz-\(getpid()).tally"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecord(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)

    // 1. The bytes as a record body (past the checksum, which random bytes rarely pass).
    if let view = try? RecordView(body: bytes) {
        _ = view.metadata
        _ = try? BankCodec.decode(view)
        var models = LiveReadModels()
        try? models.apply(record: view)  // the read models' in-place path
    }

    // 2. Frames, record views and the bank codec straight on the bytes.
    var offset = 0
    while offset < bytes.count {
        guard case .record(let length) = RecordFormat.frame(in: bytes, at: offset) else { break }
        let start = offset + RecordFormat.frameHeaderSize
        if let view = try? RecordView(body: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])) {
            _ = view.metadata
            _ = try? BankCodec.decode(view)
        }
        offset = start + length
    }

    // 3. The same bytes after a valid header, as a file: open must refuse or recover, never
    //    crash, and whatever it accepts must read back.
    var file = RecordFormat.makeHeader()
    file.append(contentsOf: bytes)
    let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return 0 }
    _ = file.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    for repairing in [false, true] {
        if let store = try? FileEventStore(path: path, lockTimeoutMilliseconds: 10, repairing: repairing) {
            _ = try? store.forEachRecord(from: 1, through: store.lastPosition) { _ = try? BankCodec.decode($0) }
        }
    }
    unlink(path)

    // 4. The bytes as a read-model snapshot, as they are and behind a valid magic and checksum
    //    (which random bytes rarely pass): refused or read, never a crash.
    _ = try? ReadModelSnapshot.decode(bytes)
    var snapshot = Array("TALLYSNP".utf8) + Array(bytes)
    let crc = Checksum.crc32(snapshot)
    withUnsafeBytes(of: crc.littleEndian) { snapshot.append(contentsOf: $0) }
    _ = snapshot.withUnsafeBytes { try? ReadModelSnapshot.decode($0) }
    return 0
}
