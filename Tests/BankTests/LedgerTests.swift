import Bank
import EventSourcing
import Testing

/// Given these events, when this command, then exactly these events or this rejection.
struct LedgerRulesTests {
    let alice = id("alice")
    let bob = id("bob")

    func given(_ events: [BankEvent]) -> Ledger.State {
        var state = Ledger.initialState
        for event in events { Ledger.evolve(&state, with: event) }
        return state
    }

    func opened(_ account: AccountID) -> BankEvent {
        .accountOpened(AccountOpened(account: account, owner: OwnerName(stored: "X")))
    }
    func deposited(_ account: AccountID, _ cents: Int64) -> BankEvent {
        .moneyDeposited(MoneyDeposited(account: account, amount: Money(minorUnits: cents)))
    }
    func closed(_ account: AccountID) -> BankEvent { .accountClosed(AccountClosed(account: account)) }

    @Test func openingANewAccount() throws {
        let owner = try OwnerName(parsing: "Alice Smith")
        #expect(
            try Ledger.decide(.open(alice, owner: owner), state: given([])) == [
                .accountOpened(AccountOpened(account: alice, owner: owner))
            ])
    }

    @Test func openingAnExistingAccountIsRejected() {
        #expect(throws: BankRejection.accountAlreadyExists(alice)) {
            try Ledger.decide(.open(alice, owner: OwnerName(stored: "Y")), state: given([opened(alice)]))
        }
    }

    @Test func reopeningAClosedAccountIsRejected() {
        #expect(throws: BankRejection.accountAlreadyExists(alice)) {
            try Ledger.decide(
                .open(alice, owner: OwnerName(stored: "Y")), state: given([opened(alice), closed(alice)]))
        }
    }

    @Test func depositing() throws {
        #expect(
            try Ledger.decide(.deposit(alice, amount: cents(1250)), state: given([opened(alice)])) == [
                deposited(alice, 1250)
            ])
    }

    @Test func depositingToAnUnknownAccountIsRejected() {
        #expect(throws: BankRejection.unknownAccount(alice)) {
            try Ledger.decide(.deposit(alice, amount: cents(1)), state: given([]))
        }
    }

    @Test func depositingToAClosedAccountIsRejected() {
        #expect(throws: BankRejection.accountClosed(alice)) {
            try Ledger.decide(.deposit(alice, amount: cents(1)), state: given([opened(alice), closed(alice)]))
        }
    }

    @Test func depositingPastWhatTheLedgerHoldsIsRejected() {
        let state = given([opened(alice), deposited(alice, .max - 5)])
        #expect(
            throws: BankRejection.balanceLimitExceeded(alice, balance: Money(minorUnits: .max - 5), requested: cents(6))
        ) {
            try Ledger.decide(.deposit(alice, amount: cents(6)), state: state)
        }
    }

    @Test(arguments: [0, -1, 100_000_000_001] as [Int64])
    func amountsOutsideTheLimitsAreRejected(minor: Int64) {
        #expect(throws: BankRejection.invalidAmount(cents(minor))) {
            try Ledger.decide(.deposit(alice, amount: cents(minor)), state: given([opened(alice)]))
        }
    }

    @Test func withdrawingUpToTheBalance() throws {
        #expect(
            try Ledger.decide(
                .withdraw(alice, amount: cents(1000)), state: given([opened(alice), deposited(alice, 1000)]))
                == [.moneyWithdrawn(MoneyWithdrawn(account: alice, amount: cents(1000)))])
    }

    @Test func overdrawingIsRejectedWithTheNumbers() {
        #expect(throws: BankRejection.insufficientFunds(alice, available: cents(1000), requested: cents(1001))) {
            try Ledger.decide(
                .withdraw(alice, amount: cents(1001)), state: given([opened(alice), deposited(alice, 1000)]))
        }
    }

    @Test func transferringIsOneEvent() throws {
        let state = given([opened(alice), opened(bob), deposited(alice, 500)])
        #expect(
            try Ledger.decide(.transfer(from: alice, to: bob, amount: cents(500)), state: state)
                == [.moneyTransferred(MoneyTransferred(from: alice, to: bob, amount: cents(500)))])
    }

    @Test func transferRejections() {
        let state = given([opened(alice), opened(bob), deposited(alice, 500)])
        #expect(throws: BankRejection.sameAccountTransfer(alice)) {
            try Ledger.decide(.transfer(from: alice, to: alice, amount: cents(1)), state: state)
        }
        #expect(throws: BankRejection.insufficientFunds(alice, available: cents(500), requested: cents(501))) {
            try Ledger.decide(.transfer(from: alice, to: bob, amount: cents(501)), state: state)
        }
        #expect(throws: BankRejection.unknownAccount(id("carol"))) {
            try Ledger.decide(.transfer(from: alice, to: id("carol"), amount: cents(1)), state: state)
        }
        #expect(throws: BankRejection.accountClosed(bob)) {
            try Ledger.decide(
                .transfer(from: alice, to: bob, amount: cents(1)),
                state: given([opened(alice), opened(bob), deposited(alice, 5), closed(bob)]))
        }
    }

    @Test func closingAnEmptyAccount() throws {
        #expect(try Ledger.decide(.close(alice), state: given([opened(alice)])) == [closed(alice)])
    }

    @Test func closingWithMoneyIsRejected() {
        #expect(throws: BankRejection.nonZeroBalance(alice, balance: cents(1))) {
            try Ledger.decide(.close(alice), state: given([opened(alice), deposited(alice, 1)]))
        }
        #expect(throws: BankRejection.accountClosed(alice)) {
            try Ledger.decide(.close(alice), state: given([opened(alice), closed(alice)]))
        }
    }

    @Test func rejectionsSayWhyWithTheNumbers() {
        #expect(
            BankRejection.insufficientFunds(alice, available: cents(750), requested: cents(1000)).description
                == "insufficient funds in alice: available 7.50, requested 10.00")
    }
}

func id(_ text: String) -> AccountID { AccountID(stored: text) }
func cents(_ value: Int64) -> Money { Money(minorUnits: value) }
