import EventSourcing
import Foundation
import Testing

@Suite(.serialized)
struct ConcurrentWriterTests {
    @Test func fourProcessesNeverLoseDuplicateReorderOrOverdraw() throws {
        let tally = Tally()
        for account in ["a", "b", "c"] {
            try tally("open", account, "--owner", account.uppercased())
            try tally("deposit", account, "50")
        }
        // Each writer runs a stream of mixed commands against the shared accounts, most of
        // them racing for the same money; each prints one line per acknowledged command.
        let script = """
            i=0
            while [ $i -lt 100 ]; do
              case $((i % 5)) in
                0) "$TALLY" deposit a 7 --command-id "w$1-$i" ;;
                1) "$TALLY" transfer a b 9 --command-id "w$1-$i" ;;
                2) "$TALLY" transfer b c 8 --command-id "w$1-$i" ;;
                3) "$TALLY" withdraw c 11 --command-id "w$1-$i" ;;
                4) "$TALLY" transfer c a 6 --command-id "w$1-$i" ;;
              esac
              [ $? -eq 0 ] && echo "ack w$1-$i"
              i=$((i + 1))
            done
            """
        let writers = (1...4).map { number in
            DispatchQueue.global().asyncResult {
                try Tally.run(
                    ["-c", script, "writer", String(number)],
                    environment: ["TALLY": Tally.executable, "TALLY_STORE": tally.store], executable: "/bin/sh")
            }
        }
        let results = try writers.map { try $0.wait() }
        let acknowledged = Set(
            results.flatMap { $0.lines.filter { $0.hasPrefix("ack ") }.map { String($0.dropFirst(4)) } })
        #expect(acknowledged.count >= 150, "too few commands went through to test anything")
        #expect(results.allSatisfy { !$0.error.contains("store") }, "\(results.map(\.error))")

        let events = try tally.log()
        #expect(events.map { $0["position"] as? Int } == Array(1...events.count).map { $0 })
        let commandIDs = events.compactMap { $0["command_id"] as? String }.filter { $0.hasPrefix("w") }
        #expect(commandIDs.count == Set(commandIDs).count, "a command was appended twice")
        #expect(Set(commandIDs) == acknowledged, "acknowledged and appended commands differ")
        #expect(events.count == 6 + acknowledged.count)

        // Fold the log independently: no balance is ever negative, money is conserved.
        var balances: [String: Int] = [:]
        var deposited = 0
        var withdrawn = 0
        for event in events {
            let data = event["data"] as? [String: Any] ?? [:]
            let account = event["account"] as? String ?? ""
            let amount = data["amount_minor"] as? Int ?? 0
            switch event["type"] as? String {
            case "MoneyDeposited":
                balances[account, default: 0] += amount
                deposited += amount
            case "MoneyWithdrawn":
                balances[account, default: 0] -= amount
                withdrawn += amount
            case "MoneyTransferred":
                balances[data["from"] as? String ?? "", default: 0] -= amount
                balances[data["to"] as? String ?? "", default: 0] += amount
            default: break
            }
            #expect(balances.values.allSatisfy { $0 >= 0 }, "overdraft at position \(event["position"] ?? "?")")
            #expect(balances.values.reduce(0, +) == deposited - withdrawn)
        }
        #expect(try tally("verify").status == 0)
    }

    @Test func aWriterWaitingTooLongForTheLockExitsThree() throws {
        let tally = Tally()
        try tally("open", "a", "--owner", "A")
        let holder = try FileEventStore(path: tally.store)
        try holder.withExclusiveAccess {
            let result = try tally("deposit", "a", "1", environment: ["TALLY_LOCK_TIMEOUT_MS": "200"])
            #expect(result.status == 3)
            #expect(result.error.contains("lock"))
        }
        // The lock goes with its holder: a killed process never blocks the next.
        let killed = Process()
        killed.executableURL = URL(fileURLWithPath: "/bin/sh")
        killed.arguments = ["-c", "exec 9<>\"$0\"; flock 9; echo locked; exec sleep 30", tally.store]
        let ready = Pipe()
        killed.standardOutput = ready
        try killed.run()
        _ = ready.fileHandleForReading.availableData  // "locked": the lock is held
        #expect(try tally("deposit", "a", "1", environment: ["TALLY_LOCK_TIMEOUT_MS": "200"]).status == 3)
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        #expect(try tally("deposit", "a", "1", environment: ["TALLY_LOCK_TIMEOUT_MS": "2000"]).status == 0)
    }
}

extension DispatchQueue {
    /// Runs `work` on this queue and returns a handle to wait for its result.
    func asyncResult<T>(_ work: @escaping @Sendable () throws -> T) -> PendingResult<T> {
        let pending = PendingResult<T>()
        async {
            pending.set(Result { try work() })
        }
        return pending
    }
}

final class PendingResult<T>: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private var result: Result<T, any Error>?

    func set(_ value: Result<T, any Error>) {
        result = value
        semaphore.signal()
    }

    func wait() throws -> T {
        semaphore.wait()
        return try result!.get()
    }
}
