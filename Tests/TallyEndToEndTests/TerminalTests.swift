import Foundation
import Testing

/// The TUI in a real terminal: the built binary in tmux, driven by keys, read by capture-pane.
/// Every wait is on a condition (text on screen, stable over two captures), never a sleep.
final class TmuxSession {
    let socket = "tally-test-" + UUID().uuidString.prefix(8)
    let name = "tally"

    init(command: String, width: Int = 100, height: Int = 30) throws {
        try tmux(["new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", command])
    }

    deinit { _ = try? tmux(["kill-server"]) }

    /// Runs tmux on this session's own server with posix_spawn and waitpid. Foundation's
    /// Process waits on descriptors that the tmux server started by `new-session` inherits and
    /// keeps, so it would wait forever; output goes through a file for the same reason.
    @discardableResult
    func tmux(_ arguments: [String]) throws -> String {
        let output = NSTemporaryDirectory() + "tally-tmux-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = (["tmux", "-L", socket] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        // The tmux server (and the TUI under it) must not inherit this test thread's blocked
        // signals: SIGWINCH and SIGTERM are part of what is tested.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/usr/bin/tmux", &actions, &attributes, argv, environ)
        guard spawned == 0 else { throw CocoaError(.executableLoad) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw CocoaError(
                .executableLoad, userInfo: [NSLocalizedDescriptionKey: "tmux \(arguments.first ?? ""): \(text)"])
        }
        return text
    }

    func keys(_ keys: String...) throws { try tmux(["send-keys", "-t", name] + keys) }
    func type(_ text: String) throws { try tmux(["send-keys", "-t", name, "-l", text]) }
    func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", name]) }
    func resize(_ width: Int, _ height: Int) throws {
        try tmux(["resize-window", "-t", name, "-x", "\(width)", "-y", "\(height)"])
    }

    /// Waits until the screen contains every one of `texts` in two captures in a row; returns
    /// the screen and how long it took.
    @discardableResult
    func waitFor(_ texts: String..., timeout: TimeInterval = 15, sourceLocation: SourceLocation = #_sourceLocation)
        throws
        -> (screen: String, seconds: TimeInterval)
    {
        let start = Date()
        var previous = ""
        while Date().timeIntervalSince(start) < timeout {
            let current = try screen()
            if texts.allSatisfy(current.contains) {
                if current == previous { return (current, Date().timeIntervalSince(start)) }
                previous = current
                continue
            }
            previous = ""
            usleep(20_000)
        }
        let last = try screen()
        Issue.record("timed out waiting for \(texts) on screen:\n\(last)", sourceLocation: sourceLocation)
        return (last, timeout)
    }
}

func grouped(minor: Int) -> String {
    let whole = String(abs(minor) / 100)
    var groups: [String] = []
    var digits = Substring(whole)
    while digits.count > 3 {
        groups.insert(String(digits.suffix(3)), at: 0)
        digits = digits.dropLast(3)
    }
    groups.insert(String(digits), at: 0)
    let cents = abs(minor) % 100
    return (minor < 0 ? "-" : "") + groups.joined(separator: ",") + "." + (cents < 10 ? "0" : "") + String(cents)
}

@Suite(.serialized)
struct TerminalTests {
    func launch(_ tally: Tally, width: Int = 100, height: Int = 30, environment: String = "") throws -> TmuxSession {
        let command =
            "env TERM=xterm-256color LANG=C.UTF-8 TZ=UTC \(environment) '\(Tally.executable)' --store '\(tally.store)'; "
            + "echo \"EXIT:$?\"; sleep 600"
        return try TmuxSession(command: command, width: width, height: height)
    }

    @Test func scrubBackSeeAnEarlierBalanceCommandFollowResizeAndQuit() throws {
        let tally = Tally()
        try tally("demo")
        let history = try json(try tally("history", "alice", "--json").output)["entries"] as? [[String: Any]] ?? []
        let changes = history.filter { ($0["change_minor"] as? Int ?? 0) != 0 }
        let last = try #require(changes.last)
        let lastPosition = try #require(last["position"] as? Int)
        let liveBalance = try #require(last["balance_minor"] as? Int)
        let earlierBalance = liveBalance - (last["change_minor"] as? Int ?? 0)
        #expect(liveBalance != earlierBalance)

        let session = try launch(tally, height: 45)
        try session.waitFor("LIVE #400", grouped(minor: liveBalance))

        // Step back to just before alice's last change: her balance shows its earlier value.
        for _ in 0..<(400 - lastPosition + 1) { try session.keys("Left") }
        try session.waitFor("HISTORY #\(lastPosition - 1)/400", grouped(minor: earlierBalance))
        try session.keys("Escape")
        try session.waitFor("LIVE #400", grouped(minor: liveBalance))

        // A deposit through the prompt lands on the dashboard.
        try session.keys(":")
        try session.type("deposit alice 5")
        try session.keys("Enter")
        try session.waitFor("done: deposited 5.00 to alice", "LIVE #401", grouped(minor: liveBalance + 500))

        // Another process appends; it appears with no key pressed.
        #expect(try tally("deposit", "bob", "3").status == 0)
        let appeared = try session.waitFor("LIVE #402", "bob +3.00", timeout: 5)
        #expect(appeared.seconds < 1.0, "took \(appeared.seconds) s")

        // Resize below the minimum and back.
        try session.resize(60, 20)
        try session.waitFor("terminal too small (needs 80×24, have 60×20)")
        try session.resize(120, 40)
        try session.waitFor("LIVE #402", "Inspector")

        // Quit: the program exits 0 and the terminal is back from the alternate screen.
        try session.keys("q")
        try session.waitFor("EXIT:0")
        #expect(
            try session.tmux(["display-message", "-p", "-t", session.name, "#{alternate_on}"]).trimmingCharacters(
                in: .whitespacesAndNewlines) == "0")
        #expect(try tally.log().count == 402)
    }

    @Test func sigtermAndCtrlCRestoreTheTerminal() throws {
        let tally = Tally()
        try tally("open", "alice", "--owner", "Alice")
        let session = try launch(tally)
        try session.waitFor("LIVE #1")
        // SIGTERM to the TUI process alone (its command line names the store).
        _ = try Tally.run(
            ["-TERM", "-f", "^\(Tally.executable) --store \(tally.store)$"], executable: "/usr/bin/pkill")
        try session.waitFor("EXIT:0")
        #expect(
            try session.tmux(["display-message", "-p", "-t", session.name, "#{alternate_on}"]).trimmingCharacters(
                in: .whitespacesAndNewlines) == "0")

        let second = try launch(tally)
        try second.waitFor("LIVE #1")
        try second.keys("C-c")
        try second.waitFor("EXIT:0")
    }

    @Test func theWelcomeLoadsTheDemoAndNoColorStaysReadable() throws {
        let tally = Tally()
        let session = try launch(
            tally, environment: "NO_COLOR=1 TALLY_ASSETS='\(FileManager.default.currentDirectoryPath)/Assets/demo'")
        try session.waitFor("Welcome to Tally", "load a demo history")
        try session.keys("D")
        try session.waitFor("LIVE #400", "loaded the demo")
        try session.keys("h")
        try session.waitFor("◀ HISTORY #399/400")
        try session.keys("q")
        try session.waitFor("EXIT:0")
    }

    /// Quitting leaves a snapshot of the read models beside a large enough store; the next
    /// start uses it and shows the same ledger, including events appended in between.
    @Test func theNextStartResumesFromTheSnapshotTheLastOneLeft() throws {
        let tally = Tally()
        try tally("demo", "--events", "12000")
        let snapshot = tally.store + ".snapshot"
        let first = try launch(tally)
        try first.waitFor("LIVE #12,000")
        try first.keys("q")
        try first.waitFor("EXIT:0")
        #expect(FileManager.default.fileExists(atPath: snapshot))
        #expect(try tally("deposit", "alice", "5").status == 0)
        let balance = try json(try tally("balance", "alice", "--json").output)["balance_minor"] as? Int
        let second = try launch(tally, height: 45)
        try second.waitFor("LIVE #12,001", "alice +5.00", grouped(minor: try #require(balance)))
        // Back in time too (the timeline makes its checkpoints after a snapshot start).
        try second.keys("g")
        try second.waitFor("HISTORY #1/12,001")
        try second.keys("q")
        try second.waitFor("EXIT:0")
        #expect(try tally("verify").status == 0)
    }

    @Test func aCorruptStoreIsShownNotACrash() throws {
        let tally = Tally()
        try tally.makeCorruptDemo(flipping: 0x10)
        let session = try launch(tally)
        try session.waitFor("Tally cannot open this store", "corrupt record at byte offset")
        try session.keys("q")
        try session.waitFor("EXIT:3")
    }
}
