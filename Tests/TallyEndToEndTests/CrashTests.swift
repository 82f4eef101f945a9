import Foundation
import Testing

/// Kills writers with SIGKILL at random moments and checks what survives: every acknowledged
/// command is there, nothing half-written is visible, positions stay gapless, and the history
/// still replays through the ledger's rules. `TALLY_CRASH_ROUNDS=500 swift test --filter
/// CrashTests` runs a longer stress.
@Suite(.serialized)
struct CrashTests {
    static let rounds = ProcessInfo.processInfo.environment["TALLY_CRASH_ROUNDS"].flatMap(Int.init) ?? 20

    @Test func everyAcknowledgedCommandSurvivesAKill() throws {
        let tally = Tally()
        try tally("open", "a", "--owner", "A")
        try tally("open", "b", "--owner", "B")
        var acknowledged = Set<String>()
        var generator = SystemRandomNumberGenerator()
        let script = """
            i=0
            while :; do
              "$TALLY" --store "$1" deposit a 3 --command-id "r$2-$i" && echo "ack r$2-$i"
              "$TALLY" --store "$1" transfer a b 2 --command-id "r$2-t$i" && echo "ack r$2-t$i"
              i=$((i + 1))
            done
            """
        for round in 1...CrashTests.rounds {
            let writer = Process()
            writer.executableURL = URL(fileURLWithPath: "/bin/sh")
            writer.arguments = ["-c", script, "crash-writer", tally.store, String(round)]
            var environment = ProcessInfo.processInfo.environment
            environment["TALLY"] = Tally.executable
            writer.environment = environment
            let output = Pipe()
            writer.standardOutput = output
            writer.standardError = FileHandle.nullDevice
            try writer.run()
            usleep(UInt32.random(in: 20_000...250_000, using: &generator))
            // Kill the loop and whichever tally it is running, wherever that is.
            let killer = Process()
            killer.executableURL = URL(fileURLWithPath: "/usr/bin/pkill")
            killer.arguments = ["-KILL", "-f", tally.store]
            try killer.run()
            killer.waitUntilExit()
            writer.waitUntilExit()
            let lines = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            acknowledged.formUnion(
                lines.split(separator: "\n").filter { $0.hasPrefix("ack ") }.map { String($0.dropFirst(4)) })

            // verify changes nothing and must pass (a torn tail is only reported).
            let verify = try tally("verify")
            #expect(verify.status == 0, "round \(round): \(verify.error)")
            let events = try tally.log()
            #expect(events.map { $0["position"] as? Int } == Array(1...events.count).map { $0 }, "round \(round)")
            let present = Set(events.compactMap { $0["command_id"] as? String })
            #expect(
                acknowledged.isSubset(of: present), "round \(round): lost \(acknowledged.subtracting(present).sorted())"
            )
            let ids = events.compactMap { $0["command_id"] as? String }
            #expect(ids.count == Set(ids).count, "round \(round): a command appears twice")
        }
        #expect(acknowledged.count >= CrashTests.rounds, "the writer acknowledged too little to test anything")
    }
}

@Suite(.serialized)
struct FileSizeLimitTests {
    @Test func aWritePastTheFileSizeLimitFailsCleanlyAndLeavesAGoodStore() throws {
        let tally = Tally()
        try tally("open", "a", "--owner", "A")
        let size = tally.bytes.count
        // ulimit -f counts 512-byte blocks in dash; leave room for a few records only.
        let blocks = size / 512 + 2
        let script = """
            ulimit -f \(blocks)
            n=0
            while [ $n -lt 100 ]; do
              "$TALLY" --store "$1" deposit a 1 || exit $?
              n=$((n + 1))
            done
            """
        let result = try Tally.run(
            ["-c", script, "limited", tally.store], environment: ["TALLY": Tally.executable], executable: "/bin/sh")
        #expect(result.status == 3, "\(result.error)")
        #expect(result.error.contains("file size limit"), "\(result.error)")
        let acknowledged = result.lines.filter { $0.hasPrefix("deposited") }.count
        #expect(acknowledged > 0)
        #expect(tally.bytes.count <= blocks * 512)
        let verify = try tally("verify")
        #expect(verify.status == 0, "\(verify.error)")
        #expect(verify.error.isEmpty, "the failed write left bytes behind: \(verify.error)")
        #expect(try tally.log().count == 1 + acknowledged)
    }
}

/// A real full filesystem: a 16 KiB tmpfs mounted for the test (the test needs root, as CI
/// and the development machines have; elsewhere it is skipped, and says so).
@Suite(.serialized)
struct FullDiskTests {
    static let mountable: Bool = {
        let probe = NSTemporaryDirectory() + "tally-mount-probe-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard
            (try? Tally.run(["-t", "tmpfs", "-o", "size=16k", "tmpfs", probe], executable: "/bin/mount"))?.status == 0
        else {
            return false
        }
        _ = try? Tally.run([probe], executable: "/bin/umount")
        return true
    }()

    @Test(.enabled(if: mountable, "needs root to mount a tmpfs"))
    func aFullDiskFailsCleanlyAcknowledgesNothingLostAndLeavesAGoodStore() throws {
        let mountPoint = NSTemporaryDirectory() + "tally-full-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        #expect(
            try Tally.run(["-t", "tmpfs", "-o", "size=16k", "tmpfs", mountPoint], executable: "/bin/mount").status == 0)
        defer {
            _ = try? Tally.run([mountPoint], executable: "/bin/umount")
            try? FileManager.default.removeItem(atPath: mountPoint)
        }
        let store = mountPoint + "/ledger.tally"
        #expect(try Tally.run(["--store", store, "open", "a", "--owner", "A"]).status == 0)
        var acknowledged = 1
        var failure: Tally.Result?
        for index in 0..<2_000 {
            let result = try Tally.run(["--store", store, "deposit", "a", "1", "--command-id", "fill-\(index)"])
            if result.status != 0 {
                failure = result
                break
            }
            acknowledged += 1
        }
        let failed = try #require(failure, "the disk never filled")
        #expect(failed.status == 3)
        #expect(failed.error.contains("no space left on the device"), "\(failed.error)")
        #expect(failed.error.split(separator: "\n").count == 1)
        // Every acknowledged command is there, nothing else, and the store verifies clean.
        let verify = try Tally.run(["--store", store, "verify"])
        #expect(verify.status == 0, "\(verify.error)")
        let log = try Tally.run(["--store", store, "log"])
        #expect(log.lines.count == acknowledged)
    }
}
