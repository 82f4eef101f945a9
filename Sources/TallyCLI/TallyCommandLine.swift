import Bank
import EventSourcing
import Foundation

/// The `tally` command line: parses arguments, runs one command against the store, writes
/// its answer, and returns the exit status (0 done, 1 rejected by the ledger's rules, 2 bad
/// usage or input, 3 store problem).
public struct TallyCommandLine {
    /// Exit statuses.
    public enum ExitStatus: Int32, Sendable {
        case done = 0
        case rejected = 1
        case usage = 2
        case storeProblem = 3
    }

    private let environment: [String: String]
    private let clock: any Clock
    private let write: (String) -> Void
    private let writeError: (String) -> Void

    /// Creates a command line.
    ///
    /// - Parameters:
    ///   - environment: where `TALLY_STORE`, `XDG_DATA_HOME`, `HOME` and `TALLY_LOCK_TIMEOUT_MS`
    ///     are looked up.
    ///   - write: receives each line of the answer (standard output).
    ///   - writeError: receives each line of errors and notices (standard error).
    public init(
        environment: [String: String], clock: any Clock = SystemClock(), write: @escaping (String) -> Void,
        writeError: @escaping (String) -> Void
    ) {
        self.environment = environment
        self.clock = clock
        self.write = write
        self.writeError = writeError
    }

    /// Runs the command in `arguments` (without the program name).
    public func run(_ arguments: [String]) -> ExitStatus {
        do {
            let parsed = try Arguments(arguments)
            if parsed.flags.contains("--help") || parsed.subcommand == "help" {
                write(Self.usage)
                return .done
            }
            guard let subcommand = parsed.subcommand else {
                write(Self.usage)
                return .done
            }
            return try dispatch(subcommand, parsed)
        } catch let error as UsageError {
            writeError("tally: \(error.message)")
            return .usage
        } catch let error as InvalidInput {
            writeError("tally: \(error.message)")
            return .usage
        } catch let rejection as BankRejection {
            writeError("tally: rejected: \(rejection)")
            return .rejected
        } catch let error as QueryRejection {
            writeError("tally: \(error.message)")
            return .rejected
        } catch let error as StoreError {
            writeError("tally: \(TextSafety.escaped(error.description))")
            return .storeProblem
        } catch let error as UndecodableEvent {
            writeError("tally: \(error.description); this tally cannot read the store (is it newer?)")
            return .storeProblem
        } catch {
            writeError("tally: \(error)")
            return .storeProblem
        }
    }

    /// The store path when `arguments` ask for the interactive ledger (no command, only
    /// `--store`); nil when they ask for anything else, which ``run(_:)`` handles.
    public func interactiveStorePath(_ arguments: [String]) -> String? {
        guard let parsed = try? Arguments(arguments), parsed.subcommand == nil, parsed.flags.isEmpty,
            parsed.values.keys.allSatisfy({ $0 == "--store" })
        else { return nil }
        return try? storePath(parsed)
    }

    /// The lock wait from `TALLY_LOCK_TIMEOUT_MS`.
    public var lockTimeoutMilliseconds: Int { environment["TALLY_LOCK_TIMEOUT_MS"].flatMap(Int.init) ?? 10_000 }

    /// The usage text.
    public static let usage = """
        tally — an event-sourced bank ledger for the terminal

        usage:
          tally [--store PATH]                          the interactive ledger (TUI)
          tally [--store PATH] open ID --owner NAME
          tally [--store PATH] deposit ID AMOUNT
          tally [--store PATH] withdraw ID AMOUNT
          tally [--store PATH] transfer FROM TO AMOUNT
          tally [--store PATH] close ID
          tally [--store PATH] balance ID [--at N] [--json]
          tally [--store PATH] accounts [--at N] [--json]
          tally [--store PATH] history ID [--json]
          tally [--store PATH] log [--from N] [--limit K] [--json]
          tally [--store PATH] verify
          tally [--store PATH] demo [--seed S] [--events N]

        Writing commands take --command-id ID: the same id twice appends once.
        ID: 1-32 letters, digits, - or _.  AMOUNT: 12, 12.5 or 12.50 (at most 1000000000.00).
        Store: --store PATH, else $TALLY_STORE, else $XDG_DATA_HOME/tally/ledger.tally.
        Exit status: 0 done, 1 rejected by the ledger's rules, 2 bad usage or input, 3 store problem.
        """

    private func dispatch(_ subcommand: String, _ arguments: Arguments) throws -> ExitStatus {
        let writing: Set<String> = ["--command-id"]
        switch subcommand {
        case "open":
            let id = try account(try arguments.expect(["id"], options: writing.union(["--owner"]))[0])
            guard let ownerText = arguments.values["--owner"] else {
                throw UsageError("open needs --owner NAME; usage: tally open ID --owner \"Alice Smith\"")
            }
            return try execute(
                .open(id, owner: try OwnerName(parsing: ownerText)), commandID: try commandID(arguments), arguments)
        case "deposit", "withdraw":
            let values = try arguments.expect(["id", "amount"], options: writing)
            let id = try account(values[0])
            let amount = try Money.parseAmount(values[1])
            let command: BankCommand =
                subcommand == "deposit" ? .deposit(id, amount: amount) : .withdraw(id, amount: amount)
            return try execute(command, commandID: try commandID(arguments), arguments)
        case "transfer":
            let values = try arguments.expect(["from", "to", "amount"], options: writing)
            let command = BankCommand.transfer(
                from: try account(values[0]), to: try account(values[1]), amount: try Money.parseAmount(values[2]))
            return try execute(command, commandID: try commandID(arguments), arguments)
        case "close":
            let id = try account(try arguments.expect(["id"], options: writing)[0])
            return try execute(.close(id), commandID: try commandID(arguments), arguments)
        case "balance":
            let id = try account(try arguments.expect(["id"], options: ["--at", "--json"])[0])
            return try balance(id, arguments)
        case "accounts":
            _ = try arguments.expect([], options: ["--at", "--json"])
            return try accounts(arguments)
        case "history":
            let id = try account(try arguments.expect(["id"], options: ["--json"])[0])
            return try history(id, arguments)
        case "log":
            _ = try arguments.expect([], options: ["--from", "--limit", "--json"])
            return try log(arguments)
        case "verify":
            _ = try arguments.expect([], options: [])
            return try verify(arguments)
        case "demo":
            _ = try arguments.expect([], options: ["--seed", "--events"])
            return try demo(arguments)
        default:
            throw UsageError("unknown command \(InvalidInput.quoted(subcommand)); run tally --help for the list")
        }
    }

    // MARK: - Store

    /// The store path from `--store`, `$TALLY_STORE`, or the XDG data directory.
    func storePath(_ arguments: Arguments) throws(UsageError) -> String {
        if let path = arguments.values["--store"] {
            guard !path.isEmpty else { throw UsageError("--store needs a path") }
            return path
        }
        if let path = environment["TALLY_STORE"], !path.isEmpty { return path }
        if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") { return data + "/tally/ledger.tally" }
        guard let home = environment["HOME"], !home.isEmpty else {
            throw UsageError("no store: give --store PATH or set TALLY_STORE (HOME is not set)")
        }
        return home + "/.local/share/tally/ledger.tally"
    }

    private func openStore(_ arguments: Arguments) throws -> FileEventStore {
        let store = try FileEventStore(path: try storePath(arguments), lockTimeoutMilliseconds: lockTimeoutMilliseconds)
        if let notice = store.recoveryNotice { writeError("tally: \(store.path): \(notice)") }
        return store
    }

    private func account(_ text: String) throws(InvalidInput) -> AccountID { try AccountID(parsing: text) }

    private func commandID(_ arguments: Arguments) throws(UsageError) -> String? {
        guard let id = arguments.values["--command-id"] else { return nil }
        guard (1...64).contains(id.utf8.count),
            id.utf8.allSatisfy({
                ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || "-_.:".utf8.contains($0)
            })
        else {
            throw UsageError(
                "invalid command id \(InvalidInput.quoted(id)): 1-64 ASCII letters, digits, - _ . or :")
        }
        return id
    }

    // MARK: - Writing

    private func execute(_ command: BankCommand, commandID: String?, _ arguments: Arguments) throws -> ExitStatus {
        let store = try openStore(arguments)
        let processor = CommandProcessor<Ledger, BankCodec>(
            store: store, clock: clock, makeCommandID: { UUID().uuidString.lowercased() })
        let outcome = try processor.handle(command, commandID: commandID)
        for envelope in outcome.envelopes {
            var line = Receipt.describe(envelope, balances: processor.state)
            if case .duplicate = outcome {
                line += " — already done by command \(envelope.metadata.commandID), nothing appended"
            }
            write(line)
        }
        return .done
    }

    // MARK: - Reading

    private func position(_ arguments: Arguments, store: FileEventStore) throws -> Int {
        guard let at = try arguments.integer("--at") else { return store.lastPosition }
        guard at <= store.lastPosition else {
            throw UsageError("--at \(at) is past the end of the log (last position is \(store.lastPosition))")
        }
        return at
    }

    private func balances(_ store: FileEventStore, through position: Int) throws -> AccountBalances {
        var balances = AccountBalances()
        try balances.catchUp(from: store, codec: BankCodec.self, through: position)
        return balances
    }

    private func json(_ account: AccountSummary, position: Int) -> JSON.Value {
        .object([
            ("account", .string(account.id.rawValue)), ("owner", .string(account.owner.rawValue)),
            ("status", .string(account.status)), ("balance_minor", .integer(account.balance.minorUnits)),
            ("position", .integer(Int64(position))),
        ])
    }

    private func balance(_ id: AccountID, _ arguments: Arguments) throws -> ExitStatus {
        let store = try openStore(arguments)
        let at = try position(arguments, store: store)
        guard let account = try balances(store, through: at).accounts[id] else {
            throw QueryRejection("unknown account \(id)" + (at < store.lastPosition ? " at position \(at)" : ""))
        }
        if arguments.flags.contains("--json") {
            write(JSON.text(json(account, position: at)))
        } else {
            write(
                "\(account.id)  \(TextSafety.escaped(account.owner.rawValue))  \(account.status)  \(account.balance.grouped)  (position \(at))"
            )
        }
        return .done
    }

    private func accounts(_ arguments: Arguments) throws -> ExitStatus {
        let store = try openStore(arguments)
        let at = try position(arguments, store: store)
        let all = try balances(store, through: at).sorted
        if arguments.flags.contains("--json") {
            write(
                JSON.text(
                    .object([
                        ("position", .integer(Int64(at))), ("accounts", .array(all.map { json($0, position: at) })),
                    ])))
            return .done
        }
        let rows = all.map { [$0.id.rawValue, TextSafety.escaped($0.owner.rawValue), $0.status, $0.balance.grouped] }
        write(Table.render(header: ["ACCOUNT", "OWNER", "STATUS", "BALANCE"], rows: rows, rightAligned: [3]))
        write("\(all.count) account\(all.count == 1 ? "" : "s") at position \(at)")
        return .done
    }

    private func history(_ id: AccountID, _ arguments: Arguments) throws -> ExitStatus {
        let store = try openStore(arguments)
        var history = AccountHistory(only: id)
        try history.catchUp(from: store, codec: BankCodec.self)
        guard let entries = history.entries[id] else { throw QueryRejection("unknown account \(id)") }
        if arguments.flags.contains("--json") {
            let items: [JSON.Value] = entries.map { entry in
                .object([
                    ("position", .integer(Int64(entry.position))), ("timestamp", .string(entry.timestamp.iso8601)),
                    ("type", .string(entry.typeName)), ("change_minor", .integer(entry.change.minorUnits)),
                    ("balance_minor", .integer(entry.balanceAfter.minorUnits)),
                    ("counterparty", entry.counterparty.map { .string($0.rawValue) } ?? .null),
                ])
            }
            write(
                JSON.text(
                    .object([
                        ("account", .string(id.rawValue)), ("position", .integer(Int64(store.lastPosition))),
                        ("entries", .array(items)),
                    ])))
            return .done
        }
        let rows = entries.map { entry in
            [
                "#\(entry.position)", entry.timestamp.iso8601, entry.typeName, entry.counterparty?.rawValue ?? "",
                entry.change == .zero ? "" : (entry.change > .zero ? "+" : "") + entry.change.grouped,
                entry.balanceAfter.grouped,
            ]
        }
        write(
            Table.render(
                header: ["POS", "TIME", "TYPE", "WITH", "CHANGE", "BALANCE"], rows: rows, rightAligned: [0, 4, 5]))
        return .done
    }

    private func log(_ arguments: Arguments) throws -> ExitStatus {
        let store = try openStore(arguments)
        let from = max(1, try arguments.integer("--from") ?? 1)
        let limit = try arguments.integer("--limit") ?? Int.max
        let through = limit == 0 ? from - 1 : min(store.lastPosition, from + min(limit, store.lastPosition) - 1)
        let asJSON = arguments.flags.contains("--json")
        guard from <= through else { return .done }
        try store.forEachRecord(from: from, through: through) { record in
            let event = try BankCodec.decode(record)
            write(asJSON ? LogLine.json(record.metadata, event) : LogLine.text(record.metadata, event))
        }
        return .done
    }

    // MARK: - Verify and demo

    private func verify(_ arguments: Arguments) throws -> ExitStatus {
        let path = try storePath(arguments)
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(.io, "no store here (nothing to verify)", path: path)
        }
        let report = try StoreVerifier.verify(path: path)
        if let notice = report.notice { writeError("tally: \(path): \(notice)") }
        write(
            "ok: \(report.records) record\(report.records == 1 ? "" : "s"), last position \(report.records), "
                + "checksums and chain intact, every event readable, no negative balance (\(path))")
        return .done
    }

    private func demo(_ arguments: Arguments) throws -> ExitStatus {
        let seed = try arguments.integer("--seed") ?? 1
        let count = try arguments.integer("--events", minimum: 1) ?? 400
        guard count <= 10_000_000 else { throw UsageError("--events is at most 10000000") }
        let store = try openStore(arguments)
        guard store.lastPosition == 0 else {
            throw UsageError(
                "the demo needs an empty store, and \(store.path) already holds \(store.lastPosition) events; "
                    + "use --store with a new path")
        }
        let appended = try DemoAssets.appendDemo(
            to: store, seed: UInt64(seed), events: count, environment: environment, clock: clock)
        write("appended \(appended) demo events (seed \(seed)) to \(store.path): positions 1–\(store.lastPosition)")
        return .done
    }
}

/// A query the ledger cannot answer (an unknown account): exit status 1.
struct QueryRejection: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// The one-line answer to an accepted command.
public enum Receipt {
    /// What `envelope` did, with the balances after it.
    public static func describe(_ envelope: Envelope<BankEvent>, balances: Ledger.State) -> String {
        let at = "(position \(envelope.position))"
        func balance(_ id: AccountID) -> String { balances[id].map { "\($0.balance)" } ?? "?" }
        switch envelope.event {
        case .accountOpened(let event):
            return "opened \(event.account) for \(TextSafety.escaped(event.owner.rawValue)) \(at)"
        case .moneyDeposited(let event):
            return "deposited \(event.amount) to \(event.account); balance now \(balance(event.account)) \(at)"
        case .moneyWithdrawn(let event):
            return "withdrew \(event.amount) from \(event.account); balance now \(balance(event.account)) \(at)"
        case .moneyTransferred(let event):
            return "transferred \(event.amount) from \(event.from) to \(event.to); balances now "
                + "\(event.from) \(balance(event.from)), \(event.to) \(balance(event.to)) \(at)"
        case .accountClosed(let event):
            return "closed \(event.account) \(at)"
        }
    }
}
