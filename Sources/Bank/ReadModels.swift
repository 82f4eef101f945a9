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
        guard var account = accounts[id] else { return }
        change(&account.balance)
        account.lastActivity = time
        account.lastPosition = position
        accounts[id] = account
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

/// Read model: each account's events with a running balance.
public struct AccountHistory: Projection {
    public private(set) var position = 0
    /// Entries by account, oldest first.
    public private(set) var entries: [AccountID: [HistoryEntry]] = [:]

    public init() {}

    /// The account's entries up to and including `position` (all when nil).
    public func entries(of id: AccountID, through position: Int? = nil) -> [HistoryEntry] {
        let all = entries[id] ?? []
        guard let position else { return all }
        return Array(all[..<endIndex(of: all, through: position)])
    }

    /// The last `count` entries of the account up to and including `position`.
    public func lastEntries(of id: AccountID, through position: Int, count: Int) -> ArraySlice<HistoryEntry> {
        let all = entries[id] ?? []
        let end = endIndex(of: all, through: position)
        return all[max(0, end - count)..<end]
    }

    /// The index after the last entry at or before `position` (entries are in position order).
    private func endIndex(of all: [HistoryEntry], through position: Int) -> Int {
        var low = 0
        var high = all.count
        while low < high {
            let middle = (low + high) / 2
            if all[middle].position <= position { low = middle + 1 } else { high = middle }
        }
        return low
    }

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
        var balance = entries[id]?.last?.balanceAfter ?? .zero
        balance.add(change)
        entries[id, default: []].append(
            HistoryEntry(
                position: envelope.position, timestamp: envelope.metadata.timestamp, kind: envelope.event.kind,
                change: change, counterparty: counterparty, balanceAfter: balance))
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
        var activity = days[day] ?? DayActivity(day: day)
        activity.events += 1
        switch envelope.event {
        case .moneyDeposited(let event): activity.deposited.add(event.amount)
        case .moneyWithdrawn(let event): activity.withdrawn.add(event.amount)
        case .moneyTransferred(let event): activity.transferred.add(event.amount)
        case .accountOpened, .accountClosed: break
        }
        days[day] = activity
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
