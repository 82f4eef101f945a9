// tally-bench: measures Tally against the targets in DESIGN.md, with baselines measured in the
// same run (fdatasync of the same directory, JSON Lines + JSONDecoder, SQLite in WAL mode).
//
//   swift run -c release tally-bench [--quick] [--json] [--sizes 10000,100000,1000000] [--dir PATH] [--keep]
//
// For profiling (perf record), two modes work on an existing store: `--measure-startup PATH`
// (open and draw the first frame, as the TUI does) and `--render-loop PATH FRAMES`.
import Bank
import EventSourcing
import Foundation
import TallyCLI
import TallyTUI

let arguments = Array(CommandLine.arguments.dropFirst())

// Child mode: open a store as the TUI does and report start-up time and peak memory; with
// `--snapshot`, from the read-model snapshot beside it, as `swift run tally` does.
if arguments.first == "--measure-startup",
    arguments.count == 2 || (arguments.count == 3 && arguments[2] == "--snapshot")
{
    let start = now()
    do {
        let store = try FileEventStore(path: arguments[1])
        let session = try LedgerSession(
            store: store, path: arguments[1], snapshotPath: arguments.count == 3 ? arguments[1] + ".snapshot" : nil,
            makeCommandID: { "bench" })
        if arguments.count == 3, session.startedFromSnapshot == nil { exit(5) }
        let terminal = InMemoryTerminal(width: 120, height: 40)
        let app = TallyApp(session: session, terminal: terminal)
        app.step(keys: [])
        let elapsed = now() - start
        guard terminal.lastFrame?.text.contains("LIVE") == true else { exit(4) }
        let rss = peakRSSBytes()
        // The first jump into the past (after a snapshot start, the timeline's checkpoints are
        // made then, up to the target).
        let (_, jump) = try timed { try session.dashboard(at: max(1, store.lastPosition / 2)) }
        print("\(elapsed) \(rss) \(jump)")
        exit(0)
    } catch {
        print("error \(error)")
        exit(3)
    }
}

// Profiling mode: render FRAMES 200×60 frames of the store at PATH, one step back from the end.
if arguments.first == "--render-loop", arguments.count == 3, let frames = Int(arguments[2]) {
    let store = try FileEventStore(path: arguments[1])
    let session = try LedgerSession(store: store, path: arguments[1], makeCommandID: { "bench" })
    var state = UIState()
    _ = UIState.reduce(into: &state, .storeAdvanced(to: store.lastPosition))
    _ = UIState.reduce(into: &state, .stepBackPressed)
    let start = now()
    for _ in 0..<frames { _ = try Renderer.render(state, session: session, width: 200, height: 60) }
    print((now() - start) / Double(frames) * 1000, "ms per frame")
    exit(0)
}
let quick = arguments.contains("--quick")
let asJSON = arguments.contains("--json")
func value(of option: String) -> String? {
    arguments.firstIndex(of: option).flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
}
let sizes =
    value(of: "--sizes").map { $0.split(separator: ",").compactMap { Int($0) } }
    ?? (quick ? [2_000, 20_000] : [10_000, 100_000, 1_000_000])
let directory = value(of: "--dir") ?? NSTemporaryDirectory() + "tally-bench-\(getpid())"
try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { if !arguments.contains("--keep") { try? FileManager.default.removeItem(atPath: directory) } }
let samples = quick ? 50 : 300
/// Syncs scatter (a shared disk's p99 is several times its p50): more of them steady the ratio.
let durableSamples = quick ? 50 : 1000

func log(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Stops the benchmark with a one-line reason.
func fail(_ message: String) -> Never {
    log("tally-bench: " + message)
    exit(1)
}

let sourceAssets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Assets/demo").path
let data = try DemoAssets.load(environment: ["TALLY_ASSETS": sourceAssets])

struct SizeResult {
    var events = 0
    var bulkEventsPerSecond = 0.0
    var storeAppendEventsPerSecond = 0.0
    var replayEventsPerSecond = 0.0
    var openEventsPerSecond = 0.0
    var jsonEventsPerSecond = 0.0
    var sqliteEventsPerSecond = 0.0
    var scrubJump = Samples()
    var scrubStep = Samples()
    var render = Samples()
    var startupSeconds = Double.nan
    var peakRSS = 0
    var coldStartupSeconds = Double.nan
    var coldPeakRSS = 0
    var snapshotWriteSeconds = Double.nan
    var firstJumpAfterSnapshotSeconds = Double.nan
    var fileBytes = 0
}

// 1. Durable append of single commands next to the disk's own fdatasync, in the same directory.
// The two are interleaved, one of each in turn, so that both meet the disk in the same state
// (its latency drifts over a run), and which goes first alternates.
log("durable append: \(durableSamples) single commands, and as many raw fdatasyncs of the same directory, interleaved")
var fdatasyncSamples = Samples()
var appendSamples = Samples()
do {
    let probePath = directory + "/fdatasync.probe"
    let fd = open(probePath, O_RDWR | O_CREAT | O_TRUNC, 0o644)
    defer { close(fd) }
    let record = [UInt8](repeating: 0x2A, count: 120)
    // A store left by an earlier run with --keep would already hold alice.
    try? FileManager.default.removeItem(atPath: directory + "/durable.tally")
    let store = try FileEventStore(path: directory + "/durable.tally")
    let processor = CommandProcessor<Ledger, BankCodec>(
        store: store, clock: SystemClock(), makeCommandID: { UUID().uuidString })
    let alice = AccountID(stored: "alice")
    try processor.handle(.open(alice, owner: OwnerName(stored: "Alice")))
    // Which of the two goes first alternates, so that neither always follows the other's sync.
    func probe(_ index: Int) {
        let start = now()
        _ = record.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(index * record.count)) }
        fdatasync(fd)
        fdatasyncSamples.add(now() - start)
    }
    func append() throws {
        let start = now()
        try processor.handle(.deposit(alice, amount: Money(minorUnits: 1250)))
        appendSamples.add(now() - start)
    }
    for index in 0..<durableSamples {
        if index % 2 == 0 {
            probe(index)
            try append()
        } else {
            try append()
            probe(index)
        }
    }
}

var results: [SizeResult] = []
for size in sizes {
    var result = SizeResult()
    result.events = size
    log("\(thousands(Double(size))) events: generating")
    var generator = DemoGenerator(data: data, seed: 42, accounts: max(30, size / 400))
    let commands = generator.commands(count: size)
    let path = directory + "/bench-\(size).tally"
    try? FileManager.default.removeItem(atPath: path)

    // 2. Bulk append with group commit.
    log("  bulk append")
    let (_, bulkSeconds) = try timed {
        let store = try FileEventStore(path: path)
        let processor = CommandProcessor<Ledger, BankCodec>(
            store: store, clock: SystemClock(), makeCommandID: DemoAssets.commandIDs(seed: 42))
        _ = try processor.handleGroup(commands, commitEvery: 4096)
    }
    result.bulkEventsPerSecond = Double(size) / bulkSeconds
    // 2b. The store alone: the same events, already decided, appended as the same commands in
    // groups of 4096 (encoding, CRC-32, chain digest, one write and one fdatasync per group).
    do {
        var batches: [AppendBatch] = []
        var events: [NewEvent] = []
        try FileEventStore(path: path).forEachRecord(from: 1, through: size) { record in
            events.append(
                NewEvent(
                    stream: record.stream, typeName: record.typeName, schemaVersion: record.schemaVersion,
                    payload: Array(record.payload)))
            if record.completesAppend {
                batches.append(AppendBatch(events: events, commandID: record.commandID, timestamp: record.timestamp))
                events.removeAll()
            }
        }
        let copyPath = path + ".store-append"
        try? FileManager.default.removeItem(atPath: copyPath)
        let copy = try FileEventStore(path: copyPath)
        let (_, seconds) = try timed {
            var start = 0
            while start < batches.count {
                _ = try copy.append(Array(batches[start..<min(batches.count, start + 4096)]))
                start += 4096
            }
        }
        guard copy.lastPosition == size else {
            fail("the store-only append wrote \(copy.lastPosition) of \(size) events")
        }
        result.storeAppendEventsPerSecond = Double(size) / seconds
        try? FileManager.default.removeItem(atPath: copyPath)
    }
    result.fileBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0

    // 3. Open + full replay into every read model, and the two baselines.
    log("  replay (best of 3) and baselines")
    var best = Double.infinity
    var session: LedgerSession?
    for _ in 0..<3 {
        session = nil
        let (opened, seconds) = try timed {
            try LedgerSession(store: try FileEventStore(path: path), path: path, makeCommandID: { "bench" })
        }
        session = opened
        best = min(best, seconds)
    }
    guard let session else { fail("the store at \(path) did not open") }
    result.replayEventsPerSecond = Double(size) / best
    var bestOpen = Double.infinity
    for _ in 0..<3 {
        let (_, seconds) = try timed { try FileEventStore(path: path) }
        bestOpen = min(bestOpen, seconds)
    }
    result.openEventsPerSecond = Double(size) / bestOpen
    let jsonPath = path + ".jsonl"
    let sqlitePath = path + ".sqlite"
    let store = try FileEventStore(path: path)
    try JSONLinesBaseline.write(store, to: jsonPath)
    try SQLiteBaseline.write(store, to: sqlitePath)
    let (jsonModels, jsonSeconds) = try timed { try JSONLinesBaseline.replay(jsonPath) }
    let (sqliteModels, sqliteSeconds) = try timed { try SQLiteBaseline.replay(sqlitePath) }
    guard jsonModels.dashboard.balances.accounts == session.live.balances.accounts,
        sqliteModels.dashboard.balances.accounts == session.live.balances.accounts
    else { fail("a baseline folded to different balances than Tally: the comparison would be meaningless") }
    result.jsonEventsPerSecond = Double(size) / jsonSeconds
    result.sqliteEventsPerSecond = Double(size) / sqliteSeconds

    // 4. Time travel: random jumps, then single steps, each until the dashboard is ready.
    log("  scrub")
    var random = SplitMix64(seed: 7)
    for _ in 0..<samples {
        let target = Int.random(in: 1...size, using: &random)
        let (_, seconds) = try timed { try session.dashboard(at: target) }
        result.scrubJump.add(seconds)
    }
    var position = size / 2
    for _ in 0..<samples {
        position = max(1, min(size - 1, position + (Bool.random(using: &random) ? 1 : -1)))
        let (_, seconds) = try timed { try session.dashboard(at: position) }
        result.scrubStep.add(seconds)
    }

    // 7. Rendering a 200×60 frame.
    log("  render")
    var state = UIState()
    _ = UIState.reduce(into: &state, .storeAdvanced(to: size))
    _ = UIState.reduce(into: &state, .stepBackPressed)
    for _ in 0..<samples {
        let (_, seconds) = try timed { try Renderer.render(state, session: session, width: 200, height: 60) }
        result.render.add(seconds)
    }

    // 5 and 6. Start to first frame and peak memory, in a fresh process: cold (replaying the
    // whole log), and from the snapshot a session leaves beside the store (every start after
    // the first). The snapshot is written here as the TUI writes it when it quits.
    log("  start-up and memory (child processes)")
    func measureStartup(_ extra: [String]) -> (Double, Int, Double)? {
        let child = Process()
        child.executableURL = URL(
            fileURLWithPath: CommandLine.arguments[0].hasPrefix("/")
                ? CommandLine.arguments[0] : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0])
        child.arguments = ["--measure-startup", path] + extra
        let pipe = Pipe()
        child.standardOutput = pipe
        guard (try? child.run()) != nil else { return nil }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        let fields = output.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        guard child.terminationStatus == 0, fields.count == 3, let seconds = Double(fields[0]),
            let rss = Int(fields[1]),
            let jump = Double(fields[2])
        else {
            log("  start-up child failed (status \(child.terminationStatus)): \(output)")
            return nil
        }
        return (seconds, rss, jump)
    }
    if let (seconds, rss, _) = measureStartup([]) {
        result.coldStartupSeconds = seconds
        result.coldPeakRSS = rss
    }
    let snapshotPath = path + ".snapshot"
    let saving = try LedgerSession(
        store: try FileEventStore(path: path), path: path, snapshotPath: snapshotPath, makeCommandID: { "bench" })
    (_, result.snapshotWriteSeconds) = try timed { try saving.saveSnapshot() }
    if let (seconds, rss, jump) = measureStartup(["--snapshot"]) {
        result.startupSeconds = seconds
        result.peakRSS = rss
        result.firstJumpAfterSnapshotSeconds = jump
    }
    try? FileManager.default.removeItem(atPath: snapshotPath)
    results.append(result)
    try? FileManager.default.removeItem(atPath: jsonPath)
    try? FileManager.default.removeItem(atPath: sqlitePath)
    if !arguments.contains("--keep") { try? FileManager.default.removeItem(atPath: path) }
}

// Report.
let largest = results.last ?? SizeResult()
let ratio = appendSamples.p50 / fdatasyncSamples.p50
func perSize(_ result: SizeResult) -> [(String, Any)] {
    [
        ("events", result.events), ("file_bytes", result.fileBytes),
        ("bulk_append_events_per_s", Int(result.bulkEventsPerSecond)),
        ("store_append_events_per_s", Int(result.storeAppendEventsPerSecond)),
        ("replay_events_per_s", Int(result.replayEventsPerSecond)),
        ("open_validate_events_per_s", Int(result.openEventsPerSecond)),
        ("jsondecoder_events_per_s", Int(result.jsonEventsPerSecond)),
        ("sqlite_events_per_s", Int(result.sqliteEventsPerSecond)),
        ("replay_vs_jsondecoder", result.replayEventsPerSecond / result.jsonEventsPerSecond),
        ("replay_vs_sqlite", result.replayEventsPerSecond / result.sqliteEventsPerSecond),
        ("scrub_jump_p50_ms", result.scrubJump.p50 * 1000), ("scrub_jump_p99_ms", result.scrubJump.p99 * 1000),
        ("scrub_step_p50_ms", result.scrubStep.p50 * 1000), ("scrub_step_p99_ms", result.scrubStep.p99 * 1000),
        ("render_p50_ms", result.render.p50 * 1000), ("render_p99_ms", result.render.p99 * 1000),
        ("startup_ms", result.startupSeconds * 1000), ("peak_rss_mb", Double(result.peakRSS) / 1_048_576),
        ("startup_cold_ms", result.coldStartupSeconds * 1000),
        ("peak_rss_cold_mb", Double(result.coldPeakRSS) / 1_048_576),
        ("snapshot_write_ms", result.snapshotWriteSeconds * 1000),
        ("first_jump_after_snapshot_ms", result.firstJumpAfterSnapshotSeconds * 1000),
        ("bytes_per_event", result.events > 0 ? result.peakRSS / result.events : 0),
    ]
}

if asJSON {
    func encode(_ value: Any) -> String {
        switch value {
        case let number as Int: return String(number)
        case let number as Double: return number.isFinite ? format(number, 4) : "null"
        case let members as [(String, Any)]:
            return "{" + members.map { "\"\($0.0)\": \(encode($0.1))" }.joined(separator: ", ") + "}"
        default: return "null"
        }
    }
    var top: [(String, Any)] = [
        ("fdatasync_p50_us", fdatasyncSamples.p50 * 1e6), ("fdatasync_p99_us", fdatasyncSamples.p99 * 1e6),
        ("append_durable_p50_us", appendSamples.p50 * 1e6), ("append_durable_p99_us", appendSamples.p99 * 1e6),
        ("append_vs_fdatasync", ratio),
    ]
    top += perSize(largest).filter { $0.0 != "events" && $0.0 != "file_bytes" }
    let sizeMembers: [(String, Any)] = results.map { (String($0.events), perSize($0)) }
    top.append(("sizes", sizeMembers))
    print(encode(top))
} else {
    print(
        "Durable append (single command) p50 \(format(appendSamples.p50 * 1e6, 0)) µs, p99 \(format(appendSamples.p99 * 1e6, 0)) µs"
    )
    print(
        "Raw fdatasync, same directory     p50 \(format(fdatasyncSamples.p50 * 1e6, 0)) µs, p99 \(format(fdatasyncSamples.p99 * 1e6, 0)) µs"
    )
    print("Ratio (append p50 / fdatasync p50): \(format(ratio, 2))   target ≤ 1.30")
    print("")
    let header = [
        "events", "bulk ev/s", "store ev/s", "open ev/s", "replay ev/s", "JSONDecoder", "SQLite", "×JSON", "×SQLite",
        "jump p50/p99 ms",
        "step p50/p99 ms", "render p50/p99 ms", "start ms", "cold ms", "RSS MB", "cold MB",
    ]
    var rows = [header]
    for result in results {
        rows.append([
            thousands(Double(result.events)), thousands(result.bulkEventsPerSecond),
            thousands(result.storeAppendEventsPerSecond),
            thousands(result.openEventsPerSecond),
            thousands(result.replayEventsPerSecond),
            thousands(result.jsonEventsPerSecond), thousands(result.sqliteEventsPerSecond),
            format(result.replayEventsPerSecond / result.jsonEventsPerSecond, 1),
            format(result.replayEventsPerSecond / result.sqliteEventsPerSecond, 2),
            format(result.scrubJump.p50 * 1000, 2) + " / " + format(result.scrubJump.p99 * 1000, 2),
            format(result.scrubStep.p50 * 1000, 3) + " / " + format(result.scrubStep.p99 * 1000, 3),
            format(result.render.p50 * 1000, 2) + " / " + format(result.render.p99 * 1000, 2),
            format(result.startupSeconds * 1000, 0), format(result.coldStartupSeconds * 1000, 0),
            format(Double(result.peakRSS) / 1_048_576, 1), format(Double(result.coldPeakRSS) / 1_048_576, 1),
        ])
    }
    let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
    for row in rows {
        print(
            row.enumerated().map { column, cell in
                String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  "))
    }
    print("")
    print("bulk: deciding and appending the demo's commands (group commit); store: the store alone appending them.")
    print(
        "start, RSS: a fresh process drawing its first frame from the snapshot beside the store; cold: replaying it all."
    )
    print(
        "At \(thousands(Double(largest.events))) events: writing the snapshot took \(format(largest.snapshotWriteSeconds * 1000, 0)) ms;"
            + " after a snapshot start, the first jump to the middle took \(format(largest.firstJumpAfterSnapshotSeconds * 1000, 0)) ms."
    )
    print("Targets: bulk ≥ 1,000,000 ev/s; replay ≥ 3,000,000 ev/s, ≥ 10× JSONDecoder, ≥ 2× SQLite;")
    print("jump p99 ≤ 5 ms; step p99 ≤ 0.2 ms; start-up ≤ 300 ms and RSS ≤ 150 MB at 1,000,000; render p99 ≤ 2 ms.")
}
