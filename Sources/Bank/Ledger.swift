import EventSourcing

/// What a person can ask of the ledger.
public enum BankCommand: Hashable, Sendable {
    case open(AccountID, owner: OwnerName)
    case deposit(AccountID, amount: Money)
    case withdraw(AccountID, amount: Money)
    case transfer(from: AccountID, to: AccountID, amount: Money)
    case close(AccountID)
}

/// Why the ledger refused a command. Nothing was appended.
public enum BankRejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// No account has this id.
    case unknownAccount(AccountID)
    /// An account with this id was opened before (ids are never reused, even after closing).
    case accountAlreadyExists(AccountID)
    /// The account holds less than requested; there is no overdraft.
    case insufficientFunds(AccountID, available: Money, requested: Money)
    /// The account is closed and takes no more money movements.
    case accountClosed(AccountID)
    /// Only an account with a zero balance can be closed.
    case nonZeroBalance(AccountID, balance: Money)
    /// A transfer needs two different accounts.
    case sameAccountTransfer(AccountID)
    /// The deposit would take the balance past what the ledger can hold.
    case balanceLimitExceeded(AccountID, balance: Money, requested: Money)
    /// The amount is not a positive amount within the per-command limit.
    case invalidAmount(Money)

    public var description: String {
        switch self {
        case .unknownAccount(let id): return "unknown account \(id)"
        case .accountAlreadyExists(let id): return "account \(id) already exists"
        case .insufficientFunds(let id, let available, let requested):
            return "insufficient funds in \(id): available \(available), requested \(requested)"
        case .accountClosed(let id): return "account \(id) is closed"
        case .nonZeroBalance(let id, let balance):
            return "cannot close \(id): balance is \(balance), withdraw or transfer it first"
        case .sameAccountTransfer(let id): return "cannot transfer from \(id) to itself"
        case .balanceLimitExceeded(let id, let balance, let requested):
            return "deposit to \(id) refused: balance \(balance) plus \(requested) exceeds what the ledger can hold"
        case .invalidAmount(let amount):
            return "invalid amount \(amount): must be greater than zero and at most \(Money.maximumAmount.grouped)"
        }
    }
}

/// One account as the write model sees it.
public struct AccountState: Hashable, Sendable {
    public var owner: OwnerName
    public var balance: Money
    public var isClosed: Bool
}

/// The bank's rules: decides commands from state rebuilt from events.
public enum Ledger: Decider {
    public typealias State = [AccountID: AccountState]

    public static var initialState: State { [:] }

    public static func decide(_ command: BankCommand, state: State) throws(BankRejection) -> [BankEvent] {
        switch command {
        case .open(let id, let owner):
            guard state[id] == nil else { throw .accountAlreadyExists(id) }
            return [.accountOpened(AccountOpened(account: id, owner: owner))]

        case .deposit(let id, let amount):
            try validate(amount)
            let account = try openAccount(id, in: state)
            guard account.balance.adding(amount) != nil else {
                throw .balanceLimitExceeded(id, balance: account.balance, requested: amount)
            }
            return [.moneyDeposited(MoneyDeposited(account: id, amount: amount))]

        case .withdraw(let id, let amount):
            try validate(amount)
            let account = try openAccount(id, in: state)
            guard account.balance >= amount else {
                throw .insufficientFunds(id, available: account.balance, requested: amount)
            }
            return [.moneyWithdrawn(MoneyWithdrawn(account: id, amount: amount))]

        case .transfer(let from, let to, let amount):
            try validate(amount)
            guard from != to else { throw .sameAccountTransfer(from) }
            let source = try openAccount(from, in: state)
            let target = try openAccount(to, in: state)
            guard source.balance >= amount else {
                throw .insufficientFunds(from, available: source.balance, requested: amount)
            }
            guard target.balance.adding(amount) != nil else {
                throw .balanceLimitExceeded(to, balance: target.balance, requested: amount)
            }
            return [.moneyTransferred(MoneyTransferred(from: from, to: to, amount: amount))]

        case .close(let id):
            let account = try openAccount(id, in: state)
            guard account.balance == .zero else { throw .nonZeroBalance(id, balance: account.balance) }
            return [.accountClosed(AccountClosed(account: id))]
        }
    }

    public static func evolve(_ state: inout State, with event: BankEvent) {
        switch event {
        case .accountOpened(let opened):
            state[opened.account] = AccountState(owner: opened.owner, balance: .zero, isClosed: false)
        case .moneyDeposited(let deposited):
            state[deposited.account]?.balance.add(deposited.amount)
        case .moneyWithdrawn(let withdrawn):
            state[withdrawn.account]?.balance.subtract(withdrawn.amount)
        case .moneyTransferred(let transferred):
            state[transferred.from]?.balance.subtract(transferred.amount)
            state[transferred.to]?.balance.add(transferred.amount)
        case .accountClosed(let closed):
            state[closed.account]?.isClosed = true
        }
    }

    public static func streams(readBy command: BankCommand) -> [String] {
        switch command {
        case .open(let id, _), .deposit(let id, _), .withdraw(let id, _), .close(let id): return [id.rawValue]
        case .transfer(let from, let to, _): return [from.rawValue, to.rawValue]
        }
    }

    private static func validate(_ amount: Money) throws(BankRejection) {
        guard amount > .zero, amount <= Money.maximumAmount else { throw .invalidAmount(amount) }
    }

    private static func openAccount(_ id: AccountID, in state: State) throws(BankRejection) -> AccountState {
        guard let account = state[id] else { throw .unknownAccount(id) }
        guard !account.isClosed else { throw .accountClosed(id) }
        return account
    }
}

extension Money {
    /// Adds `other`, saturating at the limits: for folding recorded facts, which the rules
    /// already kept in range; a log that breaks them is reported by `verify`, never trapped on.
    mutating func add(_ other: Money) {
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        self = Money(minorUnits: overflow ? (other.minorUnits > 0 ? .max : .min) : sum)
    }

    /// Subtracts `other`, saturating at the limits (see ``add(_:)``).
    mutating func subtract(_ other: Money) {
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        self = Money(minorUnits: overflow ? (other.minorUnits > 0 ? .min : .max) : difference)
    }
}
