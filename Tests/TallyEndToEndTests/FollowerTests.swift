import Bank
import EventSourcing
import Foundation
import Testing

@Suite(.serialized)
struct FollowerTests {
    /// A process that keeps a bus open (as the TUI will) sees another process's append within
    /// 250 ms, pumping the bus every 50 ms.
    @Test func anotherProcesssAppendReachesTheBusWithin250Milliseconds() throws {
        let tally = Tally()
        try tally("open", "alice", "--owner", "Alice")
        let store = try FileEventStore(path: tally.store)
        let bus = EventBus<BankCodec>(store: store)
        var balances = AccountBalances()
        try bus.subscribe(after: 0) { balances.apply($0) }
        try bus.pump()
        #expect(balances.accounts[AccountID(stored: "alice")]?.balance == .zero)

        for amount in ["12.50", "7.25"] {
            #expect(try tally("deposit", "alice", amount).status == 0)
            let acknowledged = Date()
            var seen = false
            while !seen && Date().timeIntervalSince(acknowledged) < 1 {
                seen = try bus.pump() > 0
                if !seen { usleep(50_000) }
            }
            let latency = Date().timeIntervalSince(acknowledged)
            #expect(seen)
            #expect(latency < 0.25, "took \(latency) s")
        }
        #expect(balances.accounts[AccountID(stored: "alice")]?.balance == Money(minorUnits: 1975))
        #expect(balances.position == 3)
    }
}
