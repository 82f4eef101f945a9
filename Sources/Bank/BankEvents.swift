import EventSourcing
import Glibc

/// An account was opened.
public struct AccountOpened: Hashable, Sendable {
    public var account: AccountID
    public var owner: OwnerName
    public init(account: AccountID, owner: OwnerName) {
        self.account = account
        self.owner = owner
    }
}

/// Money was paid into an account.
public struct MoneyDeposited: Hashable, Sendable {
    public var account: AccountID
    public var amount: Money
    public init(account: AccountID, amount: Money) {
        self.account = account
        self.amount = amount
    }
}

/// Money was taken out of an account.
public struct MoneyWithdrawn: Hashable, Sendable {
    public var account: AccountID
    public var amount: Money
    public init(account: AccountID, amount: Money) {
        self.account = account
        self.amount = amount
    }
}

/// Money moved from one account to another, atomically (one event).
public struct MoneyTransferred: Hashable, Sendable {
    public var from: AccountID
    public var to: AccountID
    public var amount: Money
    public init(from: AccountID, to: AccountID, amount: Money) {
        self.from = from
        self.to = to
        self.amount = amount
    }
}

/// An account with a zero balance was closed.
public struct AccountClosed: Hashable, Sendable {
    public var account: AccountID
    public init(account: AccountID) { self.account = account }
}

/// The kinds of ``BankEvent``, one byte each (read models keep these, not strings).
public enum BankEventKind: UInt8, CaseIterable, Hashable, Sendable {
    case accountOpened, moneyDeposited, moneyWithdrawn, moneyTransferred, accountClosed

    /// The stable type name stored in the log.
    public var typeName: String {
        switch self {
        case .accountOpened: return "AccountOpened"
        case .moneyDeposited: return "MoneyDeposited"
        case .moneyWithdrawn: return "MoneyWithdrawn"
        case .moneyTransferred: return "MoneyTransferred"
        case .accountClosed: return "AccountClosed"
        }
    }
}

/// Everything that can happen to the ledger. Facts: never changed, only followed by others.
public enum BankEvent: Hashable, Sendable {
    case accountOpened(AccountOpened)
    case moneyDeposited(MoneyDeposited)
    case moneyWithdrawn(MoneyWithdrawn)
    case moneyTransferred(MoneyTransferred)
    case accountClosed(AccountClosed)

    /// The stream the event is stored in: the account it happened to (the paying account
    /// for a transfer).
    public var stream: AccountID {
        switch self {
        case .accountOpened(let event): return event.account
        case .moneyDeposited(let event): return event.account
        case .moneyWithdrawn(let event): return event.account
        case .moneyTransferred(let event): return event.from
        case .accountClosed(let event): return event.account
        }
    }

    /// Every account the event touches.
    public var accounts: [AccountID] {
        if case .moneyTransferred(let event) = self { return [event.from, event.to] }
        return [stream]
    }

    /// The kind of event, without its data.
    public var kind: BankEventKind {
        switch self {
        case .accountOpened: return .accountOpened
        case .moneyDeposited: return .moneyDeposited
        case .moneyWithdrawn: return .moneyWithdrawn
        case .moneyTransferred: return .moneyTransferred
        case .accountClosed: return .accountClosed
        }
    }

    /// The stable type name stored in the log.
    public var typeName: String { kind.typeName }

    /// The money moved, if any.
    public var amount: Money? {
        switch self {
        case .moneyDeposited(let event): return event.amount
        case .moneyWithdrawn(let event): return event.amount
        case .moneyTransferred(let event): return event.amount
        case .accountOpened, .accountClosed: return nil
        }
    }
}

/// The bank's record codec: stable type names, schema version 1, compact binary payloads.
///
/// ```
/// AccountOpened    v1: owner (u16 length + UTF-8)
/// MoneyDeposited   v1: amount minor units i64
/// MoneyWithdrawn   v1: amount minor units i64
/// MoneyTransferred v1: to account (u8 length + UTF-8) · amount minor units i64   (from = stream)
/// AccountClosed    v1: (empty)
/// ```
public enum BankCodec: EventCodec {
    public static func encode(_ event: BankEvent) -> NewEvent {
        var payload = ByteWriter(capacity: 24)
        switch event {
        case .accountOpened(let opened): payload.writeString(opened.owner.rawValue)
        case .moneyDeposited(let deposited): payload.write(deposited.amount.minorUnits)
        case .moneyWithdrawn(let withdrawn): payload.write(withdrawn.amount.minorUnits)
        case .moneyTransferred(let transferred):
            payload.writeShortString(transferred.to.rawValue)
            payload.write(transferred.amount.minorUnits)
        case .accountClosed: break
        }
        return NewEvent(
            stream: event.stream.rawValue, typeName: event.typeName, schemaVersion: 1, payload: payload.bytes)
    }

    public static func decode(_ record: RecordView) throws(UndecodableEvent) -> BankEvent {
        let fields = try fields(of: record)
        let account = AccountID(stored: String(decoding: fields.account, as: UTF8.self))
        switch fields.kind {
        case .accountOpened:
            return .accountOpened(
                AccountOpened(account: account, owner: OwnerName(stored: String(decoding: fields.owner, as: UTF8.self)))
            )
        case .moneyDeposited: return .moneyDeposited(MoneyDeposited(account: account, amount: fields.amount))
        case .moneyWithdrawn: return .moneyWithdrawn(MoneyWithdrawn(account: account, amount: fields.amount))
        case .moneyTransferred:
            let to = AccountID(stored: String(decoding: fields.counterparty, as: UTF8.self))
            return .moneyTransferred(MoneyTransferred(from: account, to: to, amount: fields.amount))
        case .accountClosed: return .accountClosed(AccountClosed(account: account))
        }
    }

    /// Parses a record in place, with every check ``decode(_:)`` makes (the decoder is built on
    /// it) but without making a string: for folds that look ids up by their bytes.
    public static func fields(of record: RecordView) throws(UndecodableEvent) -> BankRecordFields {
        guard record.schemaVersion == 1 else {
            throw UndecodableEvent(
                position: record.position,
                reason: "\(record.typeName) schema version \(record.schemaVersion) is unknown")
        }
        var fields = BankRecordFields(kind: .accountClosed, account: record.streamBytes)
        var reader = ByteReader(record.payload)
        guard let kind = kind(of: record.typeNameBytes) else {
            throw UndecodableEvent(position: record.position, reason: "unknown event type \(record.typeName)")
        }
        fields.kind = kind
        do {
            switch kind {
            case .moneyDeposited, .moneyWithdrawn:
                fields.amount = try amount(&reader)
            case .moneyTransferred:
                fields.counterparty = try reader.readBytes(Int(try reader.read(UInt8.self)))
                fields.amount = try amount(&reader)
            case .accountOpened:
                fields.owner = try reader.readBytes(Int(try reader.read(UInt16.self)))
            case .accountClosed:
                break
            }
        } catch {
            throw UndecodableEvent(position: record.position, reason: "\(record.typeName) payload is truncated")
        }
        guard reader.remaining == 0 else {
            throw UndecodableEvent(position: record.position, reason: "\(record.typeName) payload has extra bytes")
        }
        return fields
    }

    /// The kind named by a stored type name: its length and one letter pick the candidate,
    /// then one comparison confirms the whole name.
    @inline(__always)
    private static func kind(of name: UnsafeRawBufferPointer) -> BankEventKind? {
        let kind: BankEventKind
        // "Account·" names differ at byte 7, "Money·" names at byte 5.
        switch (name.count, name.count == 13 ? name[7] : name.count > 5 ? name[5] : 0) {
        case (13, UInt8(ascii: "O")): kind = .accountOpened
        case (13, UInt8(ascii: "C")): kind = .accountClosed
        case (14, UInt8(ascii: "D")): kind = .moneyDeposited
        case (14, UInt8(ascii: "W")): kind = .moneyWithdrawn
        case (16, UInt8(ascii: "T")): kind = .moneyTransferred
        default: return nil
        }
        return kindNames[Int(kind.rawValue)].withUnsafeBytes { expected in
            memcmp(expected.baseAddress!, name.baseAddress!, name.count) == 0 ? kind : nil
        }
    }

    /// Each kind's stored type name as bytes, by raw value.
    private static let kindNames: [[UInt8]] = BankEventKind.allCases.map { Array($0.typeName.utf8) }

    private static func amount(_ reader: inout ByteReader) throws -> Money {
        Money(minorUnits: try reader.read(Int64.self))
    }
}

/// A bank record's fields, parsed in place by ``BankCodec/fields(of:)``: the byte fields borrow
/// the record's bytes and are valid only while they are.
public struct BankRecordFields {
    public var kind: BankEventKind
    /// The account's id (the record's stream).
    public var account: UnsafeRawBufferPointer
    /// A transfer's receiving account; empty otherwise.
    public var counterparty = UnsafeRawBufferPointer(start: nil, count: 0)
    /// An opened account's owner; empty otherwise.
    public var owner = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The money moved; zero when none.
    public var amount = Money.zero
}
