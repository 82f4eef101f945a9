import Bank
import EventSourcing
import Glibc
import TallyCLI

/// The ledger as the TUI sees it: the write side for commands, the bus feeding the live read
/// models, and a timeline for every other position.
///
/// Threading: the TUI's main thread only.
public final class LedgerSession {
    /// The store's path (for the header).
    public let path: String
    let store: any EventStore
    private let processor: CommandProcessor<Ledger, BankCodec>
    private let bus: EventBus<BankCodec>
    private let timeline: Timeline<BankDashboard, BankCodec>
    private let environment: [String: String]
    private let clock: any Clock
    /// The live read models, fed only by the bus.
    private var models: LiveReadModels
    /// The live dashboard.
    public var live: BankDashboard { models.dashboard }
    /// Every account's balances over time (for sparklines and the inspector).
    public var history: BalanceTrail { models.trail }

    /// How many events past the last snapshot make a new one worth writing at exit.
    public static let snapshotWorthwhile = 10_000

    /// Where this session's snapshot of the read models is kept, if it keeps one.
    public let snapshotPath: String?
    /// The position of the snapshot the session started from; nil when it replayed the log.
    public private(set) var startedFromSnapshot: Int?

    /// Opens a session over `store`. With `snapshotPath`, a snapshot of the read models saved
    /// there by an earlier session (``saveSnapshot()``) is used when it is anchored in this
    /// log, and only the events after it are folded; otherwise, or when it is unusable, the
    /// whole log is replayed. The store has checked every record at open either way.
    public init(
        store: any EventStore, path: String, clock: any Clock = SystemClock(), environment: [String: String] = [:],
        snapshotPath: String? = nil, makeCommandID: @escaping () -> String
    ) throws {
        self.snapshotPath = snapshotPath
        self.store = store
        self.path = path
        self.clock = clock
        self.environment = environment
        processor = CommandProcessor(store: store, clock: clock, makeCommandID: makeCommandID)
        // One numbering of account ids for every model, so that checkpoints share it.
        var models = LiveReadModels()
        if let snapshotPath, let (saved, anchor) = LedgerSession.loadSnapshot(snapshotPath),
            try LedgerSession.anchorHolds(anchor, in: store)
        {
            models = saved
            startedFromSnapshot = anchor.position
        }
        let timeline = Timeline(
            store: store, empty: BankDashboard(directory: models.directory), codec: BankCodec.self, interval: 4096,
            fineInterval: 64)
        // Catch up on the log in one tight loop over a local value, then follow the bus. The
        // live fold passes each checkpoint to the timeline: no second replay for time travel
        // (after a snapshot, the timeline makes its checkpoints when first asked for the past).
        if store.lastPosition > models.position {
            try store.forEachRecord(from: models.position + 1, through: store.lastPosition) { record in
                try LedgerSession.fold(record, into: &models, offeringTo: timeline)
            }
        }
        self.models = models
        self.timeline = timeline
        bus = EventBus(store: store, startingAfter: models.position)
        try bus.subscribeRecords(after: models.position) { [unowned self] record in
            try LedgerSession.fold(record, into: &self.models, offeringTo: self.timeline)
        }
        try bus.pump()
    }

    /// Folds one record into the live models and hands the timeline each checkpoint it wants.
    private static func fold(
        _ record: RecordView, into models: inout LiveReadModels, offeringTo timeline: Timeline<BankDashboard, BankCodec>
    ) throws {
        try models.apply(record: record)
        if record.position % timeline.interval == 0 { timeline.offer(models.dashboard) }
    }

    /// Saves the live read models to ``snapshotPath`` (replacing the file atomically), so that
    /// the next session folds only what comes after them. Does nothing without a path or
    /// before the first event.
    public func saveSnapshot() throws {
        guard let snapshotPath, models.position > 0 else { return }
        var digest = ChainDigest.zero
        try store.forEachRecord(from: models.position, through: models.position) { digest = ChainDigest(of: $0.body) }
        let bytes = ReadModelSnapshot.encode(models, anchor: SnapshotAnchor(position: models.position, digest: digest))
        let temporary = snapshotPath + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError(.io, "cannot write the snapshot", path: temporary, systemError: errno) }
        let written = bytes.withUnsafeBytes { buffer -> Bool in
            var done = 0
            while done < buffer.count {
                let result = write(fd, buffer.baseAddress! + done, buffer.count - done)
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else { return false }
                done += result
            }
            return true
        }
        close(fd)
        guard written, rename(temporary, snapshotPath) == 0 else {
            unlink(temporary)
            throw StoreError(.io, "cannot write the snapshot", path: snapshotPath, systemError: errno)
        }
    }

    /// The models and anchor in the snapshot file at `path`, or nil if there is none or it is
    /// unusable (a snapshot is a cache: the log is replayed instead).
    private static func loadSnapshot(_ path: String) -> (LiveReadModels, SnapshotAnchor)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0, info.st_size < 1 << 32 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let complete = bytes.withUnsafeMutableBytes { buffer -> Bool in
            var done = 0
            while done < buffer.count {
                let result = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(done))
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else { return false }
                done += result
            }
            return true
        }
        guard complete else { return nil }
        return bytes.withUnsafeBytes { try? ReadModelSnapshot.decode($0) }
    }

    /// Whether the log holds the record the snapshot was anchored at: same position, same
    /// chain digest (so the same prefix, since open checked every link).
    private static func anchorHolds(_ anchor: SnapshotAnchor, in store: any EventStore) throws -> Bool {
        guard anchor.position >= 1, anchor.position <= store.lastPosition else { return false }
        var digest = ChainDigest.zero
        try store.forEachRecord(from: anchor.position, through: anchor.position) { digest = ChainDigest(of: $0.body) }
        return digest == anchor.digest
    }

    /// Makes some of the timeline's checkpoints ahead of need (after a snapshot start they are
    /// made when first needed, which makes the first jump back slow). About 16,384 events a
    /// call, a few milliseconds. Returns whether all are made.
    @discardableResult
    public func prepareTimeline() -> Bool {
        (try? timeline.prepare(budget: 16_384)) ?? true
    }

    /// The last position delivered to the read models.
    public var lastPosition: Int { bus.deliveredThrough }

    /// Delivers whatever was committed since the last look, here or by another process.
    @discardableResult
    public func pump() throws -> Int { try bus.pump() }

    private var sortedCache: (position: Int, accounts: [AccountSummary], idWidth: Int)?

    /// The accounts as of `position`, sorted by id, and the cells the widest id takes.
    /// Remembered per position: the ledger at a position never changes.
    public func sortedAccounts(at position: Int) throws -> (accounts: [AccountSummary], idWidth: Int) {
        if let cache = sortedCache, cache.position == position { return (cache.accounts, cache.idWidth) }
        let accounts = try dashboard(at: position).balances.sorted
        let idWidth = accounts.reduce(0) { max($0, $1.id.rawValue.utf8.count) }  // ids are ASCII
        sortedCache = (position, accounts, idWidth)
        return (accounts, idWidth)
    }

    /// The dashboard read models as of `position`.
    public func dashboard(at position: Int) throws -> BankDashboard {
        position >= lastPosition ? live : try timeline.model(at: position)
    }

    /// The event at `position`.
    public func event(at position: Int) throws -> Envelope<BankEvent>? {
        guard position >= 1, position <= lastPosition else { return nil }
        return try events(from: position, through: position).first
    }

    /// The events from `from` through `through`.
    public func events(from: Int, through: Int) throws -> [Envelope<BankEvent>] {
        let first = max(1, from)
        let last = min(through, lastPosition)
        guard first <= last else { return [] }
        var result: [Envelope<BankEvent>] = []
        result.reserveCapacity(last - first + 1)
        try store.forEachRecord(from: first, through: last) { record in
            result.append(Envelope(metadata: record.metadata, event: try BankCodec.decode(record)))
        }
        return result
    }

    /// Up to `count` events matching `filter` (an account id or a type name, case-insensitive)
    /// at or before `position`, oldest first. Looks back at most `scanLimit` events.
    public func events(matching filter: String, through position: Int, count: Int, scanLimit: Int = 50_000) throws
        -> [Envelope<BankEvent>]
    {
        let needle = filter.lowercased()
        var found: [Envelope<BankEvent>] = []
        var end = min(position, lastPosition)
        let floor = max(1, end - scanLimit)
        while end >= floor && found.count < count {
            let start = max(floor, end - 511)
            let chunk = try events(from: start, through: end).filter { envelope in
                envelope.event.typeName.lowercased().contains(needle)
                    || envelope.event.accounts.contains { $0.rawValue.contains(needle) }
            }
            found.insert(contentsOf: chunk, at: 0)
            end = start - 1
        }
        return Array(found.suffix(count))
    }

    /// Runs a command typed at the prompt; returns the status line's answer.
    public func run(_ line: String, commandID: String? = nil) -> StatusMessage {
        do {
            let command = try PromptParser.parse(line)
            let outcome = try processor.handle(command, commandID: commandID)
            try pump()
            let text = outcome.envelopes.map { Receipt.describe($0, balances: processor.state) }.joined(separator: "; ")
            return StatusMessage("done: " + text, .success)
        } catch let error as InvalidInput {
            return StatusMessage(error.message, .error)
        } catch let rejection as BankRejection {
            return StatusMessage("rejected: \(rejection)", .error)
        } catch let error as StoreError {
            return StatusMessage("store problem: \(error.message)", .error)
        } catch {
            return StatusMessage("failed: \(error)", .error)
        }
    }

    /// Appends the demo history (the same as `tally demo`) to an empty store.
    public func loadDemo() -> StatusMessage {
        do {
            let appended = try DemoAssets.appendDemo(
                to: store, seed: 1, events: 400, environment: environment, clock: clock)
            try pump()
            return StatusMessage(
                "loaded the demo: \(appended) events. ←/→ to travel in time, Space to replay", .success)
        } catch let error as StoreError {
            return StatusMessage("could not load the demo: \(error.message)", .error)
        } catch {
            return StatusMessage("could not load the demo: \(error)", .error)
        }
    }
}

/// The `:` prompt's grammar, the command line's with the owner as the rest of the line:
/// `open alice Alice Smith`, `deposit alice 12.50`, `withdraw alice 5`,
/// `transfer alice bob 2.50`, `close alice`.
public enum PromptParser {
    /// Parses one command.
    ///
    /// - Throws: ``InvalidInput`` saying what is wrong and how to write it.
    public static func parse(_ line: String) throws(InvalidInput) -> BankCommand {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let verb = words.first?.lowercased() else {
            throw InvalidInput("type a command, like deposit alice 12.50")
        }
        let arguments = Array(words.dropFirst())
        func expect(_ count: Int, _ usage: String) throws(InvalidInput) {
            guard arguments.count == count else { throw InvalidInput("usage: \(usage)") }
        }
        switch verb {
        case "open":
            guard arguments.count >= 2 else { throw InvalidInput("usage: open ID OWNER NAME") }
            var owner = arguments.dropFirst().joined(separator: " ")
            if owner.hasPrefix("--owner ") { owner.removeFirst(8) }
            if owner.count >= 2, owner.hasPrefix("\""), owner.hasSuffix("\"") {
                owner = String(owner.dropFirst().dropLast())
            }
            return .open(try AccountID(parsing: arguments[0]), owner: try OwnerName(parsing: owner))
        case "deposit":
            try expect(2, "deposit ID AMOUNT")
            return .deposit(try AccountID(parsing: arguments[0]), amount: try Money.parseAmount(arguments[1]))
        case "withdraw":
            try expect(2, "withdraw ID AMOUNT")
            return .withdraw(try AccountID(parsing: arguments[0]), amount: try Money.parseAmount(arguments[1]))
        case "transfer":
            try expect(3, "transfer FROM TO AMOUNT")
            return .transfer(
                from: try AccountID(parsing: arguments[0]), to: try AccountID(parsing: arguments[1]),
                amount: try Money.parseAmount(arguments[2]))
        case "close":
            try expect(1, "close ID")
            return .close(try AccountID(parsing: arguments[0]))
        default:
            throw InvalidInput(
                "unknown command \(InvalidInput.quoted(verb)): use open, deposit, withdraw, transfer or close")
        }
    }
}
