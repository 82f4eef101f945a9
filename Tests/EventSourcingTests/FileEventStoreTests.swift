import Foundation
import Testing

@testable import EventSourcing

/// A fresh directory under the system's temporary directory, removed when the test ends.
final class TemporaryDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "tally-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String = "ledger.tally") -> String { path + "/" + name }
}

func event(_ stream: String, _ value: UInt8, type: String = "Ticked") -> NewEvent {
    NewEvent(stream: stream, typeName: type, schemaVersion: 1, payload: [value, value &+ 1])
}

let noon = Timestamp(millisecondsSinceEpoch: 1_796_385_600_000)

/// Writes `count` one-event appends plus one two-event append; returns the file's bytes and
/// the byte offset where each record ends.
func makeStore(at path: String, count: Int = 5) throws -> (bytes: [UInt8], recordEnds: [Int]) {
    let store = try FileEventStore(path: path)
    var ends: [Int] = []
    for index in 0..<count {
        try store.append([event("s\(index % 2)", UInt8(index))], commandID: "cmd-\(index)", timestamp: noon)
        ends.append(store.fileSize)
    }
    return (Array(try Data(contentsOf: URL(fileURLWithPath: path))), ends)
}

func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

struct FileEventStoreTests {
    @Test func roundTripAndReopen() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("nested/dir/ledger.tally")
        do {
            let store = try FileEventStore(path: path)
            #expect(store.lastPosition == 0)
            #expect(try store.append([event("a", 1)], commandID: "one", timestamp: noon) == 1...1)
            #expect(try store.append([event("b", 2), event("a", 3)], commandID: "two", timestamp: noon) == 2...3)
        }
        let reopened = try FileEventStore(path: path)
        #expect(reopened.recoveryNotice == nil)
        let events = try reopened.storedEvents()
        #expect(events.map(\.metadata.position) == [1, 2, 3])
        #expect(events.map(\.metadata.streamVersion) == [1, 1, 2])
        #expect(events.map(\.metadata.commandID) == ["one", "two", "two"])
        #expect(events.map(\.payload) == [[1, 2], [2, 3], [3, 4]])
        #expect(events.allSatisfy { $0.metadata.timestamp == noon && $0.metadata.typeName == "Ticked" })
        #expect(try reopened.streamVersion(of: "a") == 2)
        #expect(try reopened.positions(ofCommand: "two") == 2...3)
        #expect(try reopened.positions(ofCommand: "three") == nil)
    }

    @Test func theFileStartsWithANamedVersionedHeader() throws {
        let directory = TemporaryDirectory()
        let (bytes, _) = try makeStore(at: directory.file(), count: 1)
        #expect(Array(bytes.prefix(8)) == Array("TALLYLOG".utf8))
        #expect(bytes[8] == 1 && bytes[9] == 0)
    }

    @Test func theInMemoryStoreHoldsTheSameBytes() throws {
        let directory = TemporaryDirectory()
        let (bytes, _) = try makeStore(at: directory.file(), count: 4)
        let memory = InMemoryEventStore()
        for index in 0..<4 {
            try memory.append([event("s\(index % 2)", UInt8(index))], commandID: "cmd-\(index)", timestamp: noon)
        }
        #expect(memory.bytes == bytes)
    }

    @Test func staleExpectedVersionsAreAConflictAndAppendNothing() throws {
        let directory = TemporaryDirectory()
        let store = try FileEventStore(path: directory.file())
        try store.append([event("a", 1)], commandID: "one", timestamp: noon, expectedVersions: ["a": 0])
        #expect(throws: StoreError.self) {
            try store.append([event("a", 2)], commandID: "two", timestamp: noon, expectedVersions: ["a": 0])
        }
        try store.append([event("a", 2)], commandID: "two", timestamp: noon, expectedVersions: ["a": 1])
        #expect(try FileEventStore(path: directory.file()).lastPosition == 2)
    }

    @Test func everyCutInsideTheLastRecordsRecoversToTheLastWholeAppend() throws {
        let directory = TemporaryDirectory()
        let path = directory.file()
        let (bytes, ends) = try makeStore(at: path, count: 5)
        for length in ends[2]..<bytes.count {
            try write(Array(bytes.prefix(length)), to: path)
            let store = try FileEventStore(path: path)
            let expected = ends.lastIndex { $0 <= length }.map { $0 + 1 } ?? 0
            #expect(store.lastPosition == expected, "cut at \(length)")
            let cut = length - ends[expected - 1]
            #expect(store.fileSize == ends[expected - 1])
            if cut > 0 {
                #expect(store.recoveryNotice?.contains("cut \(cut) byte") == true, "cut at \(length)")
            } else {
                #expect(store.recoveryNotice == nil)
            }
            // The store goes on appending after the cut.
            try store.append([event("z", 9)], commandID: "after", timestamp: noon)
            #expect(try FileEventStore(path: path).lastPosition == expected + 1)
        }
    }

    @Test func anAppendCutShortLosesAllOfItsEvents() throws {
        let directory = TemporaryDirectory()
        let path = directory.file()
        let store = try FileEventStore(path: path)
        try store.append([event("a", 1)], commandID: "one", timestamp: noon)
        let before = store.fileSize
        try store.append([event("a", 2), event("b", 3), event("a", 4)], commandID: "three", timestamp: noon)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        // Cut anywhere inside the three-event append, even on a record boundary.
        for length in (before + 1)..<bytes.count {
            try write(Array(bytes.prefix(length)), to: path)
            #expect(try FileEventStore(path: path).lastPosition == 1, "cut at \(length)")
        }
    }

    @Test(arguments: ["zeros", "random"])
    func garbageAfterTheLastRecordIsCutAndReported(kind: String) throws {
        let directory = TemporaryDirectory()
        let path = directory.file()
        let (bytes, _) = try makeStore(at: path, count: 3)
        var generator = SystemRandomNumberGenerator()
        for size in [1, 7, 12, 100, 5000] {
            let tail =
                kind == "zeros"
                ? [UInt8](repeating: 0, count: size)
                : (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try write(bytes + tail, to: path)
            let store = try FileEventStore(path: path)
            #expect(store.lastPosition == 3)
            #expect(store.recoveryNotice?.contains("cut \(size) byte") == true)
            #expect(store.fileSize == bytes.count)
        }
    }

    @Test func everyFlippedByteIsRefusedWithItsOffset() throws {
        let directory = TemporaryDirectory()
        let path = directory.file()
        let (bytes, ends) = try makeStore(at: path, count: 4)
        for offset in 0..<bytes.count {
            var damaged = bytes
            damaged[offset] ^= 0x20
            try write(damaged, to: path)
            for repairing in [true, false] {
                do {
                    let store = try FileEventStore(path: path, repairing: repairing)
                    Issue.record("flip at \(offset) was not detected; opened with \(store.lastPosition) events")
                } catch let error as StoreError {
                    #expect(error.code == .corrupt, "flip at \(offset): \(error)")
                    if offset >= RecordFormat.headerSize {
                        let record = ends.firstIndex { offset < $0 }!
                        let recordStart = record == 0 ? RecordFormat.headerSize : ends[record - 1]
                        #expect(error.offset == recordStart, "flip at \(offset)")
                        #expect(error.position == record + 1, "flip at \(offset)")
                    }
                }
            }
            // A refused store is left exactly as it was: nothing cut, nothing appended.
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == damaged)
        }
    }

    @Test func aRecordEditedWithItsChecksumRecomputedIsCaughtByTheChain() throws {
        let directory = TemporaryDirectory()
        let path = directory.file()
        let (bytes, ends) = try makeStore(at: path, count: 4)
        // Edit the payload of record 2 and recompute its CRC, as a careful forger would.
        var edited = bytes
        let start = ends[0]
        let length = Int(bytes[start]) | Int(bytes[start + 1]) << 8
        let bodyStart = start + RecordFormat.frameHeaderSize
        edited[bodyStart + length - 1] ^= 0x01
        let crc = Array(edited[bodyStart..<(bodyStart + length)]).withUnsafeBytes { Checksum.crc32($0) }
        withUnsafeBytes(of: crc.littleEndian) { edited.replaceSubrange((start + 8)..<(start + 12), with: $0) }
        try write(edited, to: path)
        #expect {
            try FileEventStore(path: path)
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.code == .corrupt && error.position == 3 && error.offset == ends[1]
                && error.message.contains("chain")
        }
    }

    /// Large scans check their records on two cores; the halves meet at record 5,000 here.
    /// Damage on either side of the seam, or on both, is named exactly as a one-core scan names it.
    @Test func checksSplitAcrossCoresNameTheFirstDamagedRecord() throws {
        let directory = TemporaryDirectory()
        let path = directory.file()
        let count = 10_000
        #expect(count >= RecordChecks.parallelThreshold)
        let store = try FileEventStore(path: path)
        _ = try store.append(
            (0..<count).map { index in
                AppendBatch(
                    events: [event("s\(index % 7)", UInt8(index % 256))], commandID: "c\(index)", timestamp: noon)
            })
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let starts = (1...count).map { store.index.offsets[$0 - 1] }
        func payloadEnd(_ record: Int) -> Int {
            let start = starts[record]
            let length = Int(bytes[start]) | Int(bytes[start + 1]) << 8
            return start + RecordFormat.frameHeaderSize + length
        }
        func expectRefused(_ damaged: [UInt8], at record: Int, saying words: String) throws {
            try write(damaged, to: path)
            #expect {
                try FileEventStore(path: path)
            } throws: { error in
                guard let error = error as? StoreError else { return false }
                return error.code == .corrupt && error.offset == starts[record] && error.position == record + 1
                    && error.message.contains(words)
            }
        }
        // A flipped byte: the record's own checksum.
        for record in [0, 4_999, 5_000, 9_999] {
            var damaged = bytes
            damaged[payloadEnd(record) - 1] ^= 0x01
            try expectRefused(damaged, at: record, saying: "checksum")
        }
        // Damage in both halves: the earlier one is named.
        var twice = bytes
        twice[payloadEnd(7_000) - 1] ^= 0x01
        twice[payloadEnd(3_000) - 1] ^= 0x01
        try expectRefused(twice, at: 3_000, saying: "checksum")
        // A forged record (checksum recomputed) is caught by its successor's link, across the seam too.
        for record in [4_998, 4_999, 5_000] {
            var forged = bytes
            let bodyStart = starts[record] + RecordFormat.frameHeaderSize
            forged[payloadEnd(record) - 1] ^= 0x01
            let crc = Array(forged[bodyStart..<payloadEnd(record)]).withUnsafeBytes { Checksum.crc32($0) }
            withUnsafeBytes(of: crc.littleEndian) {
                forged.replaceSubrange((starts[record] + 8)..<(starts[record] + 12), with: $0)
            }
            try expectRefused(forged, at: record + 1, saying: "chain")
        }
        // Undamaged, it opens whole.
        try write(bytes, to: path)
        #expect(try FileEventStore(path: path).lastPosition == count)
    }

    @Test func appendsTheFormatCannotHoldAreRefusedAndWriteNothing() throws {
        let directory = TemporaryDirectory()
        let store = try FileEventStore(path: directory.file())
        let size = store.fileSize
        let long = String(repeating: "x", count: 256)
        let cases: [[AppendBatch]] = [
            [AppendBatch(events: [], commandID: "c", timestamp: noon)],
            [AppendBatch(events: [event(long, 1)], commandID: "c", timestamp: noon)],
            [AppendBatch(events: [event("a", 1)], commandID: long, timestamp: noon)],
            [AppendBatch(events: [event("a", 1, type: long)], commandID: "c", timestamp: noon)],
            [
                AppendBatch(
                    events: [
                        NewEvent(
                            stream: "a", typeName: "T", schemaVersion: 1, payload: [UInt8](repeating: 0, count: 1 << 20)
                        )
                    ], commandID: "c", timestamp: noon)
            ],
        ]
        for batches in cases {
            #expect { try store.append(batches) } throws: { ($0 as? StoreError)?.code == .invalidAppend }
        }
        #expect(store.fileSize == size)
        #expect(store.lastPosition == 0)
    }

    @Test func aFailedSyncIsNotAcknowledgedAndStopsFurtherWrites() throws {
        let directory = TemporaryDirectory()
        let store = try FileEventStore(path: directory.file())
        try store.append([event("a", 1)], commandID: "one", timestamp: noon)
        store.syncFailureForTesting = EIO
        #expect {
            try store.append([event("a", 2)], commandID: "two", timestamp: noon)
        } throws: { error in
            let error = error as? StoreError
            return error?.code == .io && error?.message.contains("fdatasync failed") == true
                && error?.message.contains("not acknowledged") == true
        }
        // No retry that could hide lost data: this instance refuses every further write,
        // even once the disk "recovers".
        store.syncFailureForTesting = nil
        #expect {
            try store.append([event("a", 3)], commandID: "three", timestamp: noon)
        } throws: { ($0 as? StoreError)?.code == .failedEarlier }
        // A new process finds a store that opens; the unacknowledged event may or may not be
        // there (as with any lost acknowledgement), which is what command ids are for.
        let reopened = try FileEventStore(path: directory.file())
        #expect((1...2).contains(reopened.lastPosition))
        #expect(try reopened.positions(ofCommand: "three") == nil)
    }

    @Test func notATallyFileIsRefused() throws {
        let directory = TemporaryDirectory()
        let path = directory.file()
        try write(Array("hello, this is not a ledger at all".utf8), to: path)
        #expect(throws: StoreError.self) { try FileEventStore(path: path) }
    }

    @Test func anotherStoreOnTheSameFileSeesNewAppendsOnRefresh() throws {
        let directory = TemporaryDirectory()
        let writer = try FileEventStore(path: directory.file())
        let reader = try FileEventStore(path: directory.file())
        try writer.append([event("a", 1)], commandID: "one", timestamp: noon)
        #expect(reader.lastPosition == 0)
        #expect(try reader.refresh() == 1)
        try reader.append([event("a", 2)], commandID: "two", timestamp: noon, expectedVersions: ["a": 1])
        #expect(try writer.refresh() == 1)
        #expect(try writer.streamVersion(of: "a") == 2)
    }

    @Test func aFollowerNeverWaitsBehindAWriter() throws {
        let directory = TemporaryDirectory()
        let writer = try FileEventStore(path: directory.file())
        let follower = try FileEventStore(path: directory.file(), lockTimeoutMilliseconds: 5_000)
        try writer.withExclusiveAccess {
            try writer.append([event("a", 1)], commandID: "one", timestamp: noon)
            let start = Date()
            #expect(try follower.refresh() == 0)  // the writer still holds the lock
            #expect(Date().timeIntervalSince(start) < 1, "refresh waited for the writer")
        }
        #expect(try follower.refresh() == 1)
    }

    @Test func aHeldLockMakesAWriterGiveUpWithAClearError() throws {
        let directory = TemporaryDirectory()
        let holder = try FileEventStore(path: directory.file())
        let waiter = try FileEventStore(path: directory.file(), lockTimeoutMilliseconds: 100)
        try holder.withExclusiveAccess {
            #expect {
                try waiter.append([event("a", 1)], commandID: "x", timestamp: noon)
            } throws: { error in
                (error as? StoreError)?.code == .locked
            }
        }
        try waiter.append([event("a", 1)], commandID: "x", timestamp: noon)
        #expect(waiter.lastPosition == 1)
    }
}
