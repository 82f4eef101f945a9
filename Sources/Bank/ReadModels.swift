import EventSourcing

/// One account as the read side shows it.
public struct AccountSummary: Hashable, Sendable {
    public var id: AccountID
    public var owner: OwnerName
    public var isClosed: Bool
    public var balance: Money
    /// When money last moved or the account last changed.
    public var lastActivity: Timestamp
    /// The position of the last event that touched the account.
    public var lastPosition: Int

    /// `open` or `closed`.
    public var status: String { isClosed ? "closed" : "open" }
}

/// Read model: every account ever opened, with owner, status, balance and last activity.
public struct AccountBalances: Projection {
    public private(set) var position = 0
    /// Accounts by id.
    public private(set) var accounts: [AccountID: AccountSummary] = [:]

    public init() {}

    /// The accounts sorted by id.
    public var sorted: [AccountSummary] { accounts.values.sorted { $0.id < $1.id } }

    public mutating func apply(_ envelope: Envelope<BankEvent>) {
        position = envelope.position
        let time = envelope.metadata.timestamp
        switch envelope.event {
        case .accountOpened(let opened):
            accounts[opened.account] = AccountSummary(
                id: opened.account, owner: opened.owner, isClosed: false, balance: .zero, lastActivity: time,
                lastPosition: position)
        case .moneyDeposited(let deposited):
            touch(deposited.account, time) { $0.add(deposited.amount) }
        case .moneyWithdrawn(let withdrawn):
            touch(withdrawn.account, time) { $0.subtract(withdrawn.amount) }
        case .moneyTransferred(let transferred):
            touch(transferred.from, time) { $0.subtract(transferred.amount) }
            touch(transferred.to, time) { $0.add(transferred.amount) }
        case .accountClosed(let closed):
            accounts[closed.account]?.isClosed = true
            touch(closed.account, time) { _ in }
        }
    }

    private mutating func touch(_ id: AccountID, _ time: Timestamp, _ change: (inout Money) -> Void) {
        // One hash lookup, then the value is changed in place.
        guard let index = accounts.index(forKey: id) else { return }
        change(&accounts.values[index].balance)
        accounts.values[index].lastActivity = time
        accounts.values[index].lastPosition = position
    }
}

/// Read model: ledger-wide totals.
public struct LedgerTotals: Projection, Hashable {
    public private(set) var position = 0
    public private(set) var openAccounts = 0
    public private(set) var closedAccounts = 0
    /// The sum of all balances: deposited minus withdrawn.
    public private(set) var moneyHeld = Money.zero
    public private(set) var deposited = Money.zero
    public private(set) var withdrawn = Money.zero
    public private(set) var transferred = Money.zero
    /// Events applied, by kind (indexed by ``BankEventKind/rawValue``).
    private var counts = [Int](repeating: 0, count: BankEventKind.allCases.count)

    /// Events applied of `kind`.
    public func eventCount(of kind: BankEventKind) -> Int { counts[Int(kind.rawValue)] }

    public init() {}

    /// Events applied.
    public var eventCount: Int { position }

    public mutating func apply(_ envelope: Envelope<BankEvent>) {
        position = envelope.position
        counts[Int(envelope.event.kind.rawValue)] += 1
        switch envelope.event {
        case .accountOpened: openAccounts += 1
        case .accountClosed:
            openAccounts -= 1
            closedAccounts += 1
        case .moneyDeposited(let event):
            deposited.add(event.amount)
            moneyHeld.add(event.amount)
        case .moneyWithdrawn(let event):
            withdrawn.add(event.amount)
            moneyHeld.subtract(event.amount)
        case .moneyTransferred(let event):
            transferred.add(event.amount)
        }
    }
}

/// One line of an account's history.
public struct HistoryEntry: Hashable, Sendable {
    public var position: Int
    public var timestamp: Timestamp
    public var kind: BankEventKind
    /// The stable type name of the event.
    public var typeName: String { kind.typeName }
    /// The change to this account's balance (negative when money left).
    public var change: Money
    /// The other account of a transfer.
    public var counterparty: AccountID?
    /// The balance after the event.
    public var balanceAfter: Money
}

/// Read model: each account's events with a running balance (a statement). Full entries cost
/// about 64 bytes each; follow only the account you need with ``init(only:)``, or use
/// ``BalanceTrail`` to keep every account's balances compactly.
public struct AccountHistory: Projection {
    public private(set) var position = 0
    /// Entries by account, oldest first.
    public private(set) var entries: [AccountID: [HistoryEntry]] = [:]
    private let only: AccountID?

    /// Follows every account, or only `account`.
    public init(only account: AccountID? = nil) {
        only = account
    }

    /// The account's entries, oldest first.
    public func entries(of id: AccountID) -> [HistoryEntry] { entries[id] ?? [] }

    public mutating func apply(_ envelope: Envelope<BankEvent>) {
        position = envelope.position
        let event = envelope.event
        switch event {
        case .accountOpened(let opened): record(opened.account, envelope, change: .zero, counterparty: nil)
        case .moneyDeposited(let deposited):
            record(deposited.account, envelope, change: deposited.amount, counterparty: nil)
        case .moneyWithdrawn(let withdrawn):
            record(
                withdrawn.account, envelope, change: Money(minorUnits: -withdrawn.amount.minorUnits), counterparty: nil)
        case .moneyTransferred(let transferred):
            record(
                transferred.from, envelope, change: Money(minorUnits: -transferred.amount.minorUnits),
                counterparty: transferred.to)
            record(transferred.to, envelope, change: transferred.amount, counterparty: transferred.from)
        case .accountClosed(let closed): record(closed.account, envelope, change: .zero, counterparty: nil)
        }
    }

    private mutating func record(
        _ id: AccountID, _ envelope: Envelope<BankEvent>, change: Money, counterparty: AccountID?
    ) {
        if let only, only != id { return }
        // One hash lookup, then the account's array grows in place.
        if entries.index(forKey: id) == nil { entries[id] = [] }
        guard let index = entries.index(forKey: id) else { return }
        var balance = entries.values[index].last?.balanceAfter ?? .zero
        balance.add(change)
        entries.values[index].append(
            HistoryEntry(
                position: envelope.position, timestamp: envelope.metadata.timestamp, kind: envelope.event.kind,
                change: change, counterparty: counterparty, balanceAfter: balance))
    }
}

/// Read model: every account's balance after each event that touched it, in 12 bytes an entry
/// (position and balance), for sparklines and before → after at any position. Everything
/// else about those events is in the log.
public struct BalanceTrail: Projection {
    public private(set) var position = 0
    private var positions: [AccountID: [UInt32]] = [:]
    private var balances: [AccountID: [Int64]] = [:]

    public init() {}

    /// The account's last `count` balances at or before `position`, oldest first.
    public func recentBalances(of id: AccountID, through position: Int, count: Int) -> ArraySlice<Int64> {
        guard let all = balances[id], let marks = positions[id] else { return [] }
        let end = endIndex(marks, through: position)
        return all[max(0, end - count)..<end]
    }

    /// The account's balance before and after the event at `position`, if it touched the account.
    public func change(of id: AccountID, at position: Int) -> (before: Money, after: Money)? {
        guard let all = balances[id], let marks = positions[id] else { return nil }
        let end = endIndex(marks, through: position)
        guard end > 0, marks[end - 1] == UInt32(truncatingIfNeeded: position) else { return nil }
        return (Money(minorUnits: end > 1 ? all[end - 2] : 0), Money(minorUnits: all[end - 1]))
    }

    public mutating func apply(_ envelope: Envelope<BankEvent>) {
        position = envelope.position
        switch envelope.event {
        case .accountOpened(let opened): record(opened.account, .zero)
        case .moneyDeposited(let deposited): record(deposited.account, deposited.amount)
        case .moneyWithdrawn(let withdrawn): record(withdrawn.account, Money(minorUnits: -withdrawn.amount.minorUnits))
        case .moneyTransferred(let transferred):
            record(transferred.from, Money(minorUnits: -transferred.amount.minorUnits))
            record(transferred.to, transferred.amount)
        case .accountClosed(let closed): record(closed.account, .zero)
        }
    }

    private mutating func record(_ id: AccountID, _ change: Money) {
        var balance = Money(minorUnits: balances[id]?.last ?? 0)
        balance.add(change)
        positions[id, default: []].append(UInt32(truncatingIfNeeded: position))
        balances[id, default: []].append(balance.minorUnits)
    }

    private func endIndex(_ marks: [UInt32], through position: Int) -> Int {
        let limit = UInt32(clamping: position)
        var low = 0
        var high = marks.count
        while low < high {
            let middle = (low + high) / 2
            if marks[middle] <= limit { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// Activity on one UTC day.
public struct DayActivity: Hashable, Sendable {
    /// Days since 1970-01-01.
    public var day: Int64
    public var events = 0
    public var deposited = Money.zero
    public var withdrawn = Money.zero
    public var transferred = Money.zero

    mutating func record(_ event: BankEvent) {
        events += 1
        switch event {
        case .moneyDeposited(let event): deposited.add(event.amount)
        case .moneyWithdrawn(let event): withdrawn.add(event.amount)
        case .moneyTransferred(let event): transferred.add(event.amount)
        case .accountOpened, .accountClosed: break
        }
    }
}

/// Read model: activity per day.
public struct ActivityOverTime: Projection, Hashable {
    public private(set) var position = 0
    /// Days with activity, by day number.
    public private(set) var days: [Int64: DayActivity] = [:]

    public init() {}

    /// The days with activity, oldest first.
    public var sortedDays: [DayActivity] { days.values.sorted { $0.day < $1.day } }

    public mutating func apply(_ envelope: Envelope<BankEvent>) {
        position = envelope.position
        let day = envelope.metadata.timestamp.dayNumber
        days[day, default: DayActivity(day: day)].record(envelope.event)  // changed in place
    }
}

/// The read models the dashboard shows, fed together: one value, so that time travel can
/// checkpoint and restore them as one.
public struct BankDashboard: Projection {
    public private(set) var balances = AccountBalances()
    public private(set) var totals = LedgerTotals()
    public private(set) var activity = ActivityOverTime()

    public init() {}

    public var position: Int { totals.position }

    public mutating func apply(_ envelope: Envelope<BankEvent>) {
        balances.apply(envelope)
        totals.apply(envelope)
        activity.apply(envelope)
    }
}
