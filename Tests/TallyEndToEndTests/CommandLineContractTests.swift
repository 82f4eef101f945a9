import Foundation
import Testing

@Suite(.serialized)
struct CommandLineContractTests {
    @Test func aDayAtTheBank() throws {
        let tally = Tally()
        #expect(try tally("open", "alice", "--owner", "Alice Smith").status == 0)
        #expect(try tally("open", "Bob", "--owner", "Bob Okafor").status == 0)
        let deposit = try tally("deposit", "alice", "125.50")
        #expect(deposit.status == 0)
        #expect(deposit.output == "deposited 125.50 to alice; balance now 125.50 (position 3)\n")
        #expect(try tally("transfer", "ALICE", "bob", "25").status == 0)
        #expect(try tally("withdraw", "bob", "5.5").status == 0)

        let alice = try json(try tally("balance", "alice", "--json").output)
        #expect(alice["account"] as? String == "alice")
        #expect(alice["owner"] as? String == "Alice Smith")
        #expect(alice["status"] as? String == "open")
        #expect(alice["balance_minor"] as? Int == 10050)
        #expect(alice["position"] as? Int == 5)
        #expect(Set(alice.keys) == ["account", "owner", "status", "balance_minor", "position"])

        let past = try json(try tally("balance", "alice", "--at", "3", "--json").output)
        #expect(past["balance_minor"] as? Int == 12550)
        #expect(past["position"] as? Int == 3)

        #expect(try tally("withdraw", "bob", "19.5").status == 0)
        #expect(try tally("close", "bob").status == 0)
        let accounts = try json(try tally("accounts", "--json").output)
        #expect(accounts["position"] as? Int == 7)
        let list = accounts["accounts"] as? [[String: Any]] ?? []
        #expect(list.map { $0["account"] as? String } == ["alice", "bob"])
        #expect(list.map { $0["status"] as? String } == ["open", "closed"])
        #expect(list.map { $0["balance_minor"] as? Int } == [10050, 0])

        let early = try json(try tally("accounts", "--at", "1", "--json").output)
        #expect((early["accounts"] as? [[String: Any]])?.count == 1)

        let history = try tally("history", "alice")
        #expect(history.status == 0)
        #expect(history.lines.count == 4)  // header + opened, deposited, transferred

        let verify = try tally("verify")
        #expect(verify.status == 0)
        #expect(verify.output.contains("7 records, last position 7"))
    }

    @Test func theLogIsJSONLinesInTheContractsShape() throws {
        let tally = Tally()
        try tally("open", "alice", "--owner", "Alice \"Q\" Smith", "--command-id", "c-1")
        try tally("open", "bob", "--owner", "Bob")
        try tally("deposit", "alice", "10")
        try tally("transfer", "alice", "bob", "2.5")
        try tally("withdraw", "bob", "2.5")
        try tally("close", "bob")
        let events = try tally.log()
        #expect(events.map { $0["position"] as? Int } == [1, 2, 3, 4, 5, 6])
        #expect(
            events.map { $0["type"] as? String } == [
                "AccountOpened", "AccountOpened", "MoneyDeposited", "MoneyTransferred", "MoneyWithdrawn",
                "AccountClosed",
            ])
        #expect(events.map { $0["account"] as? String } == ["alice", "bob", "alice", "alice", "bob", "bob"])
        #expect(events.map { $0["version"] as? Int } == [1, 1, 2, 3, 2, 3])
        #expect(events[0]["command_id"] as? String == "c-1")
        #expect((events[0]["data"] as? [String: Any])?["owner"] as? String == "Alice \"Q\" Smith")
        #expect((events[2]["data"] as? [String: Any])?["amount_minor"] as? Int == 1000)
        let transfer = events[3]["data"] as? [String: Any] ?? [:]
        #expect(
            transfer["from"] as? String == "alice" && transfer["to"] as? String == "bob"
                && transfer["amount_minor"] as? Int == 250)
        #expect((events[5]["data"] as? [String: Any])?.isEmpty == true)
        for event in events {
            #expect(Set(event.keys) == ["position", "type", "account", "version", "timestamp", "command_id", "data"])
            let timestamp = event["timestamp"] as? String ?? ""
            #expect(timestamp.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"#, options: .regularExpression) != nil)
        }
        let page = try tally("log", "--from", "2", "--limit", "2", "--json")
        #expect(page.lines.count == 2)
        #expect(try json(page.lines[0])["position"] as? Int == 2)
    }

    @Test func rejectionsExitOneSayWhyAndAppendNothing() throws {
        let tally = Tally()
        try tally("open", "alice", "--owner", "Alice")
        try tally("deposit", "alice", "7.50")
        let before = tally.bytes
        let cases: [([String], String)] = [
            (["withdraw", "alice", "10"], "insufficient funds in alice: available 7.50, requested 10.00"),
            (["deposit", "carol", "1"], "unknown account carol"),
            (["open", "alice", "--owner", "Another"], "account alice already exists"),
            (["transfer", "alice", "alice", "1"], "cannot transfer from alice to itself"),
            (["close", "alice"], "balance is 7.50"),
            (["balance", "nobody"], "unknown account nobody"),
        ]
        for (arguments, message) in cases {
            let result = try Tally.run(["--store", tally.store] + arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.error.contains(message), "\(arguments): \(result.error)")
            #expect(result.error.split(separator: "\n").count == 1)
            #expect(result.output.isEmpty)
        }
        #expect(tally.bytes == before)
    }

    @Test func badInputExitsTwoWithOneLineAndChangesNothing() throws {
        let tally = Tally()
        try tally("open", "alice", "--owner", "Alice")
        let before = tally.bytes
        let cases: [[String]] = [
            ["deposit", "alice", "-5"], ["deposit", "alice", "0"], ["deposit", "alice", "1e3"],
            ["deposit", "alice", "0x10"],
            ["deposit", "alice", "12.345"], ["deposit", "alice", "1,000"], ["deposit", "alice", ""],
            ["deposit", "alice", " 5"],
            ["deposit", "alice", "١٢"], ["deposit", "alice", "1000000000.01"], ["deposit", "alice"],
            ["deposit", "alice", "1", "2"], ["deposit", "al ice", "1"],
            ["deposit", String(repeating: "a", count: 33), "1"],
            ["open", "bob"], ["open", "bob", "--owner", "Evil\u{1B}]0;pwned\u{07}"],
            ["open", "bob", "--owner", "a\u{202E}b"],
            ["open", "bob", "--owner", String(repeating: "x", count: 10_240)], ["open", "bob", "--owner", ""],
            ["deposit", "alice", "1", "--frobnicate"], ["deposit", "alice", "1", "--json"],
            ["balance", "alice", "--at", "-1"],
            ["balance", "alice", "--at", "99"], ["log", "--limit", "x"], ["teleport", "alice"],
            ["deposit", "alice", "1", "--command-id", ""],
            ["--store"], ["verify", "extra"], ["demo", "--events", "0"],
        ]
        for arguments in cases {
            let result = try Tally.run(["--store", tally.store] + arguments)
            #expect(result.status == 2, "\(arguments): \(result.error)")
            #expect(result.error.hasPrefix("tally: "), "\(arguments)")
            #expect(result.error.split(separator: "\n").count == 1, "\(arguments)")
            #expect(
                !result.error.contains("\u{1B}") && !result.error.contains("\u{202E}")
                    && !result.error.contains("\u{07}"))
            #expect(result.error.count < 400, "\(arguments)")
        }
        #expect(tally.bytes == before)
    }

    @Test func theInteractiveLedgerWithoutATerminalSaysWhatToDoInstead() throws {
        let tally = Tally()
        let result = try Tally.run(["--store", tally.store])
        #expect(result.status == 2)
        #expect(result.error.contains("needs a terminal"))
        #expect(try Tally.run(["--help"]).output.contains("usage:"))
    }

    @Test func invalidUTF8ArgumentsAreRefused() throws {
        let tally = Tally()
        let result = try Tally.run(
            ["-c", "\"$0\" --store \"$1\" open \"$(printf 'bad\\377')\" --owner x", Tally.executable, tally.store],
            executable: "/bin/sh")
        #expect(result.status == 2)
        #expect(result.error.contains("not valid UTF-8"))
        #expect(tally.bytes.isEmpty)
    }

    @Test func aRepeatedCommandIDAppendsOnce() throws {
        let tally = Tally()
        try tally("open", "alice", "--owner", "Alice")
        let first = try tally("deposit", "alice", "10", "--command-id", "pay-42")
        let second = try tally("deposit", "alice", "10", "--command-id", "pay-42")
        #expect(first.status == 0 && second.status == 0)
        #expect(second.output.hasPrefix(first.output.trimmingCharacters(in: .newlines)))
        #expect(second.output.contains("nothing appended"))
        #expect(try json(try tally("balance", "alice", "--json").output)["balance_minor"] as? Int == 1000)
        #expect(try tally.log().count == 2)
    }

    @Test func theStoreComesFromTheFlagTheEnvironmentOrTheDataHome() throws {
        let directory = TemporaryDirectory()
        #expect(try Tally.run(["open", "a", "--owner", "A", "--store", directory.file("after.tally")]).status == 0)
        #expect(
            try Tally.run(["open", "b", "--owner", "B"], environment: ["TALLY_STORE": directory.file("env.tally")])
                .status == 0)
        #expect(
            try Tally.run(["open", "c", "--owner", "C"], environment: ["XDG_DATA_HOME": directory.path]).status == 0)
        for path in ["after.tally", "env.tally", "tally/ledger.tally"] {
            #expect(FileManager.default.fileExists(atPath: directory.file(path)), "\(path)")
        }
    }

    @Test func theDemoIsAHistoryWorthScrubbing() throws {
        let tally = Tally()
        let demo = try tally("demo", "--seed", "7")
        #expect(demo.status == 0, "\(demo.error)")
        let events = try tally.log()
        #expect(events.count == 400)
        let types = Set(events.compactMap { $0["type"] as? String })
        #expect(types.isSuperset(of: ["AccountOpened", "MoneyDeposited", "MoneyWithdrawn", "MoneyTransferred"]))
        let days = Set(events.compactMap { ($0["timestamp"] as? String)?.prefix(10) })
        #expect(days.count >= 14)
        let at50 = try json(try tally("accounts", "--at", "50", "--json").output)
        #expect(at50["position"] as? Int == 50)
        #expect((at50["accounts"] as? [Any])?.isEmpty == false)
        #expect(try tally("verify").status == 0)
        // Same seed, same history; a second demo on a full store is refused.
        let again = Tally()
        try again("demo", "--seed", "7")
        #expect(again.bytes == tally.bytes)
        #expect(try tally("demo").status == 2)
    }

    @Test func verifyNamesTheOffsetAndPositionOfDamage() throws {
        let tally = Tally()
        let bytes = try tally.makeCorruptDemo(flipping: 0x04)
        let result = try tally("verify")
        #expect(result.status == 3)
        #expect(
            result.error.range(of: #"byte offset \d+ \(position \d+\)"#, options: .regularExpression) != nil,
            "\(result.error)")
        // Every other command refuses too, and changes nothing.
        #expect(try tally("deposit", "alice", "1").status == 3)
        #expect(try tally("balance", "alice").status == 3)
        #expect(tally.bytes == bytes)
    }

    @Test func aTornTailIsCutWithANotice() throws {
        let tally = Tally()
        try tally("open", "alice", "--owner", "Alice")
        try tally("deposit", "alice", "3")
        let whole = tally.bytes
        try Data(whole + whole.suffix(30)).write(to: URL(fileURLWithPath: tally.store))
        let verify = try tally("verify")
        #expect(verify.status == 0)
        #expect(verify.error.contains("incomplete append"))
        #expect(tally.bytes.count == whole.count + 30)  // verify changes nothing
        let balance = try tally("balance", "alice")
        #expect(balance.status == 0)
        #expect(balance.error.contains("cut 30 bytes"))
        #expect(tally.bytes == whole)
    }
}
