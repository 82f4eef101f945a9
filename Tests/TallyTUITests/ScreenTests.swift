import Bank
import EventSourcing
import Foundation
import TallyCLI
import Testing

@testable import TallyTUI

let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let goldenDirectory = sourceRoot.appendingPathComponent("Tests/TallyTUITests/Golden")
let environment = ["TALLY_ASSETS": sourceRoot.appendingPathComponent("Assets/demo").path]
let start = Timestamp(millisecondsSinceEpoch: 1_796_385_600_000)

/// An app over a store in memory, with the demo loaded unless `empty`.
func makeApp(width: Int, height: Int, empty: Bool = false, store: (any EventStore)? = nil) throws
    -> (TallyApp, InMemoryTerminal, LedgerSession)
{
    let store = store ?? InMemoryEventStore()
    var next = 0
    let session = try LedgerSession(
        store: store, path: "/home/trainer/.local/share/tally/ledger.tally", clock: ManualClock(start: start),
        environment: environment,
        makeCommandID: {
            next += 1
            return "tui-\(next)"
        })
    if !empty && store.lastPosition == 0 { _ = session.loadDemo() }
    let terminal = InMemoryTerminal(width: width, height: height)
    var seconds = 0.0
    let app = TallyApp(
        session: session, terminal: terminal,
        monotonicSeconds: {
            seconds += 0.05
            return seconds
        })
    return (app, terminal, session)
}

func keys(_ text: String) -> [Key] { text.map { Key.character($0) } }

/// Compares `frame` with `Golden/<name>.txt`; `TALLY_RECORD_GOLDEN=1` writes it instead.
func expectGolden(_ frame: ScreenBuffer?, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let text = (frame?.text ?? "") + "\n"
    let file = goldenDirectory.appendingPathComponent(name + ".txt")
    if ProcessInfo.processInfo.environment["TALLY_RECORD_GOLDEN"] == "1" {
        try FileManager.default.createDirectory(at: goldenDirectory, withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return
    }
    let expected = try String(contentsOf: file, encoding: .utf8)
    #expect(text == expected, "screen \(name) differs from its golden file", sourceLocation: sourceLocation)
}

struct GoldenScreenTests {
    static let sizes = [(80, 24), (120, 40)]

    @Test(arguments: sizes)
    func welcome(width: Int, height: Int) throws {
        let (app, terminal, _) = try makeApp(width: width, height: height, empty: true)
        app.step(keys: [])
        try expectGolden(terminal.lastFrame, "welcome-\(width)x\(height)")
    }

    @Test(arguments: sizes)
    func live(width: Int, height: Int) throws {
        let (app, terminal, _) = try makeApp(width: width, height: height)
        app.step(keys: [])
        try expectGolden(terminal.lastFrame, "live-\(width)x\(height)")
        #expect(terminal.lastFrame?.text.contains("LIVE #400") == true)
    }

    @Test(arguments: sizes)
    func history(width: Int, height: Int) throws {
        let (app, terminal, _) = try makeApp(width: width, height: height)
        app.step(keys: Array(repeating: .left, count: 150))
        try expectGolden(terminal.lastFrame, "history-\(width)x\(height)")
        #expect(terminal.lastFrame?.text.contains("HISTORY #250/400") == true)
    }

    @Test(arguments: sizes)
    func help(width: Int, height: Int) throws {
        let (app, terminal, _) = try makeApp(width: width, height: height)
        app.step(keys: [.character("?")])
        try expectGolden(terminal.lastFrame, "help-\(width)x\(height)")
    }

    @Test(arguments: sizes)
    func inspector(width: Int, height: Int) throws {
        let (app, terminal, _) = try makeApp(width: width, height: height)
        app.step(keys: [.home] + Array(repeating: .right, count: 41) + [.enter])
        try expectGolden(terminal.lastFrame, "inspector-\(width)x\(height)")
    }

    @Test func tooSmall() throws {
        let (app, terminal, _) = try makeApp(width: 60, height: 20)
        app.step(keys: [])
        try expectGolden(terminal.lastFrame, "too-small-60x20")
        app.step(keys: [.character("q")])
        #expect(app.state.shouldQuit)
    }
}

struct ScreenBehaviourTests {
    @Test func theWholeScreenTravelsInTime() throws {
        let (app, terminal, session) = try makeApp(width: 120, height: 40)
        app.step(keys: [])
        let liveTotals = session.live.totals
        app.step(keys: [.home])
        let frame = terminal.lastFrame?.text ?? ""
        #expect(frame.contains("HISTORY #1/400"))
        #expect(frame.contains("Accounts at #1"))
        let first = try session.dashboard(at: 1)
        #expect(first.totals.eventCount == 1)
        #expect(!frame.contains(liveTotals.deposited.grouped))
    }

    @Test func aBalanceShowsItsEarlierValueInHistory() throws {
        // Tall enough that every account of the demo is on screen.
        let (app, terminal, session) = try makeApp(width: 120, height: 60)
        app.step(keys: [])
        // Find a deposit and step to just before it: the balance must show the earlier value.
        let events = try session.events(from: 1, through: 400)
        guard
            let deposit = events.last(where: {
                if case .moneyDeposited = $0.event { return true } else { return false }
            }),
            case .moneyDeposited(let event) = deposit.event
        else {
            Issue.record("the demo has no deposit")
            return
        }
        app.step(keys: [.home] + Array(repeating: .right, count: deposit.position - 2))
        let before = try session.dashboard(at: deposit.position - 1).balances.accounts[event.account]?.balance
        #expect(app.state.cursor == deposit.position - 1)
        #expect(terminal.lastFrame?.text.contains(before?.grouped ?? "?") == true)
        app.step(keys: [.right])
        let after = try session.dashboard(at: deposit.position).balances.accounts[event.account]?.balance
        #expect(after == before.flatMap { $0.adding(event.amount) })
        #expect(terminal.lastFrame?.text.contains(after?.grouped ?? "?") == true)
    }

    @Test func aCommandFromThePromptLandsAndTheDashboardShowsIt() throws {
        let (app, terminal, session) = try makeApp(width: 120, height: 40)
        let before = session.live.balances.accounts[AccountID(stored: "alice")]?.balance ?? .zero
        app.step(keys: [.left, .left, .character(":")] + keys("deposit alice 12.50") + [.enter])
        #expect(app.state.mode == .live)
        #expect(session.lastPosition == 401)
        #expect(
            session.live.balances.accounts[AccountID(stored: "alice")]?.balance
                == before.adding(Money(minorUnits: 1250)))
        let frame = terminal.lastFrame?.text ?? ""
        #expect(frame.contains("returned to LIVE; done: deposited 12.50 to alice"))
        #expect(frame.contains("LIVE #401"))
    }

    @Test func aRejectionSaysWhyWithTheNumbers() throws {
        let (app, terminal, _) = try makeApp(width: 120, height: 40)
        app.step(keys: [.character("w")] + keys("alice 99999999") + [.enter])
        #expect(terminal.lastFrame?.text.contains("rejected: insufficient funds in alice: available") == true)
    }

    @Test func badInputIsExplainedAsYouType() throws {
        let (app, terminal, session) = try makeApp(width: 120, height: 40)
        app.step(keys: [.character("d")] + keys("alice 1e3"))
        #expect(terminal.lastFrame?.text.contains("invalid amount \"1e3\"") == true)
        app.step(keys: [.enter])
        #expect(session.lastPosition == 400)
    }

    @Test func anotherProcesssAppendAppearsWithoutAKeyPress() throws {
        let directory = NSTemporaryDirectory() + "tally-tui-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try FileEventStore(path: directory + "/ledger.tally")
        let (app, terminal, _) = try makeApp(width: 120, height: 40, store: store)
        app.step(keys: [])
        let other = try FileEventStore(path: directory + "/ledger.tally")
        let processor = CommandProcessor<Ledger, BankCodec>(
            store: other, clock: ManualClock(start: start), makeCommandID: { "other" })
        try processor.handle(.deposit(AccountID(stored: "bob"), amount: Money(minorUnits: 77_700)))
        app.step(keys: [])  // one turn of the loop, no key
        let frame = terminal.lastFrame?.text ?? ""
        #expect(frame.contains("LIVE #401"))
        #expect(frame.contains("bob +777.00"))
    }

    /// A session saves its read models; the next one starts from them when they are anchored
    /// in the log, folds only what came after, and shows exactly what a full replay shows.
    @Test func aSnapshotIsUsedOnlyWhereItIsAnchoredAndChangesNothingShown() throws {
        let directory = NSTemporaryDirectory() + "tally-tui-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/ledger.tally"
        let snapshot = path + ".snapshot"
        let store = try FileEventStore(path: path)
        let (_, _, first) = try makeApp(width: 80, height: 24, store: store)  // the demo: 400 events
        let saved = try LedgerSession(store: store, path: path, snapshotPath: snapshot, makeCommandID: { "x" })
        #expect(saved.startedFromSnapshot == nil)
        try saved.saveSnapshot()
        _ = first.run("deposit alice 12.50")
        let resumed = try LedgerSession(
            store: try FileEventStore(path: path), path: path, snapshotPath: snapshot, makeCommandID: { "y" })
        let replayed = try LedgerSession(store: try FileEventStore(path: path), path: path, makeCommandID: { "z" })
        #expect(resumed.startedFromSnapshot == 400)
        #expect(resumed.lastPosition == 401)
        #expect(resumed.live.balances.accounts == replayed.live.balances.accounts)
        #expect(resumed.live.totals == replayed.live.totals)
        for position in [0, 1, 150, 399, 400, 401] {
            #expect(
                try resumed.dashboard(at: position).balances.accounts
                    == replayed.dashboard(at: position).balances.accounts)
        }
        // Another log at the same path, as long but with other events: the snapshot's anchor
        // (the chain digest at 400) does not hold, so it is not used.
        try FileManager.default.removeItem(atPath: path)
        let other = try FileEventStore(path: path)
        let writer = CommandProcessor<Ledger, BankCodec>(
            store: other, clock: ManualClock(start: start), makeCommandID: { UUID().uuidString })
        let zed = AccountID(stored: "zed")
        _ = try writer.handleGroup(
            [PlannedCommand(.open(zed, owner: OwnerName(stored: "Zed")))]
                + (0..<450).map { _ in PlannedCommand(.deposit(zed, amount: Money(minorUnits: 100))) })
        #expect(other.lastPosition > 400)
        let fresh = try LedgerSession(store: other, path: path, snapshotPath: snapshot, makeCommandID: { "w" })
        #expect(fresh.startedFromSnapshot == nil)
        // A damaged snapshot is not used either.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: snapshot)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: snapshot))
        #expect(
            try LedgerSession(store: store, path: path, snapshotPath: snapshot, makeCommandID: { "v" })
                .startedFromSnapshot == nil)
    }

    @Test func everySizeRendersWithoutCrashing() throws {
        let (app, terminal, _) = try makeApp(width: 80, height: 24)
        for width in stride(from: 1, through: 130, by: 7) {
            for height in stride(from: 1, through: 45, by: 4) {
                terminal.size = (width, height)
                app.step(keys: [.resize, .left, .character("?")])
                app.step(keys: [.character("?")])
                #expect(terminal.lastFrame?.width == width && terminal.lastFrame?.height == height)
            }
        }
    }

    @Test func hostileOwnerNamesStayInTheirColumns() throws {
        let store = InMemoryEventStore()
        // Names written by another program straight into the store, bypassing validation.
        for (index, name) in ["佐藤 花子さん長い名前です", "🍜🍜🍜🍜🍜🍜🍜🍜🍜", "evil\u{1B}[2Jname\u{202E}"].enumerated() {
            try store.append(
                [
                    BankCodec.encode(
                        .accountOpened(
                            AccountOpened(account: AccountID(stored: "a\(index)"), owner: OwnerName(stored: name))))
                ],
                commandID: "c\(index)", timestamp: start)
        }
        let (app, terminal, _) = try makeApp(width: 100, height: 30, store: store)
        app.step(keys: [])
        let frame = try #require(terminal.lastFrame)
        #expect(!frame.cells.contains { $0.text.unicodeScalars.contains { $0.value == 0x1B || $0 == "\u{202E}" } })
        // Every row of the accounts box ends with its border in the same column.
        let borderColumns = (2...5).map { row in
            (0..<frame.width).last { frame[$0, row].text == "│" && $0 < frame.width / 2 + 10 }
        }
        #expect(Set(borderColumns.compactMap { $0 }).count == 1, "\(frame.text)")
    }
}
