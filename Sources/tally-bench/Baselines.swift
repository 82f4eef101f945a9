import Bank
import CSQLite
import EventSourcing
import Foundation
import TallyCLI

/// The bank event a baseline row describes (both baselines store the same columns).
func makeEvent(type: String, account: AccountID, owner: String, counterparty: String, amountMinor: Int64) -> BankEvent {
    let amount = Money(minorUnits: amountMinor)
    switch type {
    case "AccountOpened": return .accountOpened(AccountOpened(account: account, owner: OwnerName(stored: owner)))
    case "MoneyDeposited": return .moneyDeposited(MoneyDeposited(account: account, amount: amount))
    case "MoneyWithdrawn": return .moneyWithdrawn(MoneyWithdrawn(account: account, amount: amount))
    case "MoneyTransferred":
        return .moneyTransferred(MoneyTransferred(from: account, to: AccountID(stored: counterparty), amount: amount))
    default: return .accountClosed(AccountClosed(account: account))
    }
}

/// One event as a JSON Lines baseline stores it (the `tally log --json` shape).
struct JSONEvent: Decodable {
    struct Data: Decodable {
        var owner: String?
        var amount_minor: Int64?
        var from: String?
        var to: String?
    }

    var position: Int
    var type: String
    var account: String
    var version: Int
    var timestamp: String
    var command_id: String
    var data: Data
    var timestamp_ms: Int64
}

enum JSONLinesBaseline {
    /// Writes every event of `store` to `path` as JSON Lines.
    static func write(_ store: any EventStore, to path: String) throws {
        var text = ""
        text.reserveCapacity(store.lastPosition * 200)
        try store.forEachRecord(from: 1, through: store.lastPosition) { record in
            var line = LogLine.json(record.metadata, try BankCodec.decode(record))
            line.removeLast()
            text += line + ", \"timestamp_ms\": \(record.timestamp.millisecondsSinceEpoch)}\n"
        }
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// Reads `path`, decodes every line with JSONDecoder and folds it into the read models.
    static func replay(_ path: String) throws -> LiveReadModels {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let decoder = JSONDecoder()
        var models = LiveReadModels()
        var start = data.startIndex
        while let end = data[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let event = try decoder.decode(JSONEvent.self, from: data[start..<end])
            models.apply(envelope(event))
            start = end + 1
        }
        return models
    }

    private static func envelope(_ event: JSONEvent) -> Envelope<BankEvent> {
        let bankEvent = makeEvent(
            type: event.type, account: AccountID(stored: event.account), owner: event.data.owner ?? "",
            counterparty: event.data.to ?? "", amountMinor: event.data.amount_minor ?? 0)
        let metadata = EventMetadata(
            position: event.position, stream: event.account, streamVersion: event.version,
            timestamp: Timestamp(millisecondsSinceEpoch: event.timestamp_ms), commandID: event.command_id,
            typeName: event.type,
            schemaVersion: 1)
        return Envelope(metadata: metadata, event: bankEvent)
    }
}

/// SQLite in WAL mode, one row per event, read back in position order.
enum SQLiteBaseline {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func write(_ store: any EventStore, to path: String) throws {
        let database = try open(path)
        defer { sqlite3_close(database) }
        try execute(database, "PRAGMA journal_mode=WAL")
        try execute(
            database,
            """
            CREATE TABLE events (position INTEGER PRIMARY KEY, type TEXT NOT NULL, stream TEXT NOT NULL,
              version INTEGER NOT NULL, timestamp INTEGER NOT NULL, command_id TEXT NOT NULL,
              owner TEXT, counterparty TEXT, amount_minor INTEGER)
            """)
        try execute(database, "BEGIN")
        var statement: OpaquePointer?
        guard
            sqlite3_prepare_v2(database, "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)", -1, &statement, nil)
                == SQLITE_OK
        else {
            throw Failure(description: "prepare insert")
        }
        defer { sqlite3_finalize(statement) }
        let transient = tally_sqlite_transient()
        try store.forEachRecord(from: 1, through: store.lastPosition) { record in
            let event = try BankCodec.decode(record)
            sqlite3_reset(statement)
            sqlite3_bind_int64(statement, 1, Int64(record.position))
            sqlite3_bind_text(statement, 2, record.typeName, -1, transient)
            sqlite3_bind_text(statement, 3, record.stream, -1, transient)
            sqlite3_bind_int64(statement, 4, Int64(record.streamVersion))
            sqlite3_bind_int64(statement, 5, record.timestamp.millisecondsSinceEpoch)
            sqlite3_bind_text(statement, 6, record.commandID, -1, transient)
            switch event {
            case .accountOpened(let opened): sqlite3_bind_text(statement, 7, opened.owner.rawValue, -1, transient)
            case .moneyTransferred(let transferred):
                sqlite3_bind_text(statement, 8, transferred.to.rawValue, -1, transient)
            default: break
            }
            if let amount = event.amount { sqlite3_bind_int64(statement, 9, amount.minorUnits) }
            guard sqlite3_step(statement) == SQLITE_DONE else { throw Failure(description: "insert") }
            sqlite3_clear_bindings(statement)
        }
        try execute(database, "COMMIT")
    }

    static func replay(_ path: String) throws -> LiveReadModels {
        let database = try open(path)
        defer { sqlite3_close(database) }
        var statement: OpaquePointer?
        guard
            sqlite3_prepare_v2(
                database,
                "SELECT position, type, stream, version, timestamp, command_id, owner, counterparty, amount_minor FROM events ORDER BY position",
                -1, &statement, nil) == SQLITE_OK
        else { throw Failure(description: "prepare select") }
        defer { sqlite3_finalize(statement) }
        var models = LiveReadModels()
        func text(_ column: Int32) -> String {
            guard let pointer = sqlite3_column_text(statement, column) else { return "" }
            return String(cString: pointer)
        }
        while sqlite3_step(statement) == SQLITE_ROW {
            let type = text(1)
            let account = AccountID(stored: text(2))
            let event = makeEvent(
                type: type, account: account, owner: text(6), counterparty: text(7),
                amountMinor: sqlite3_column_int64(statement, 8))
            let metadata = EventMetadata(
                position: Int(sqlite3_column_int64(statement, 0)), stream: account.rawValue,
                streamVersion: Int(sqlite3_column_int64(statement, 3)),
                timestamp: Timestamp(millisecondsSinceEpoch: sqlite3_column_int64(statement, 4)), commandID: text(5),
                typeName: type, schemaVersion: 1)
            models.apply(Envelope(metadata: metadata, event: event))
        }
        return models
    }

    private static func open(_ path: String) throws -> OpaquePointer? {
        var database: OpaquePointer?
        guard sqlite3_open(path, &database) == SQLITE_OK else { throw Failure(description: "open \(path)") }
        return database
    }

    private static func execute(_ database: OpaquePointer?, _ sql: String) throws {
        guard sqlite3_exec(database, sql, nil, nil, nil) == SQLITE_OK else {
            throw Failure(description: String(cString: sqlite3_errmsg(database)))
        }
    }
}
