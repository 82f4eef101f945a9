import Bank
import Testing

struct MoneyParsingTests {
    @Test(
        arguments: [
            ("12", 1200), ("12.5", 1250), ("12.50", 1250), ("0.01", 1), ("007.10", 710),
            ("1000000000", 100_000_000_000),
            ("1000000000.00", 100_000_000_000), ("999999999.99", 99_999_999_999),
        ] as [(String, Int64)])
    func acceptsExactDecimals(text: String, minorUnits: Int64) throws {
        #expect(try Money.parseAmount(text) == Money(minorUnits: minorUnits))
    }

    @Test(arguments: [
        "", " ", " 12", "12 ", "-5", "+5", "0", "0.00", "0.0", "1e3", "0x10", "12.345", "1,000", "1.000,50", "12.",
        ".5", "1000000000.01", "99999999999999999999999", "١٢", "１２", "12.5.0", "NaN", "inf", "12a", "\u{1B}[31m5",
    ])
    func refusesAnythingElse(text: String) {
        #expect(throws: InvalidInput.self) { try Money.parseAmount(text) }
    }

    @Test func printsTwoDecimals() {
        #expect(Money(minorUnits: 1250).description == "12.50")
        #expect(Money(minorUnits: 5).description == "0.05")
        #expect(Money(minorUnits: -305).description == "-3.05")
        #expect(Money(minorUnits: 123_456_789).grouped == "1,234,567.89")
    }

    @Test func groupsThousandsWithCommas() {
        #expect(Money(minorUnits: 0).grouped == "0.00")
        #expect(Money(minorUnits: 99_999).grouped == "999.99")
        #expect(Money(minorUnits: 100_000).grouped == "1,000.00")
        #expect(Money(minorUnits: -123_456_789).grouped == "-1,234,567.89")
        #expect(Money(minorUnits: .min).grouped == "-92,233,720,368,547,758.08")
        #expect(Money.groupThousands("1000000") == "1,000,000")
        #expect(Money.groupThousands("100000") == "100,000")
        #expect(Money.groupThousands("") == "")
    }

    @Test func arithmeticReportsOverflow() {
        #expect(Money(minorUnits: .max).adding(Money(minorUnits: 1)) == nil)
        #expect(Money(minorUnits: .min).subtracting(Money(minorUnits: 1)) == nil)
        #expect(Money(minorUnits: 5).adding(Money(minorUnits: 7)) == Money(minorUnits: 12))
    }
}

struct IdentifierTests {
    @Test(arguments: ["alice", "ALICE", "a", "a-b_c9", String(repeating: "x", count: 32)])
    func acceptsValidIDs(text: String) throws {
        #expect(try AccountID(parsing: text).rawValue == text.lowercased())
    }

    @Test(arguments: [
        "", "al ice", "alice!", "ålice", String(repeating: "x", count: 33), "a/b", "\u{1B}[2J", "a\u{0}b",
    ])
    func refusesInvalidIDs(text: String) {
        #expect(throws: InvalidInput.self) { try AccountID(parsing: text) }
    }

    @Test(arguments: ["Alice Smith", "佐藤 花", "Noodle Bar 🍜", "O'Brien-Smith", String(repeating: "é", count: 64)])
    func acceptsPrintableNames(text: String) throws {
        #expect(try OwnerName(parsing: text).rawValue == text)
    }

    @Test(arguments: [
        "", "   ", "evil\u{1B}[31m", "line\nbreak", "tab\there", "rtl\u{202E}txet", "bell\u{07}", "nul\u{0}",
        String(repeating: "x", count: 65), String(repeating: "y", count: 10_240), "zero\u{200B}width",
    ])
    func refusesUnsafeNames(text: String) {
        #expect(throws: InvalidInput.self) { try OwnerName(parsing: text) }
    }

    @Test func escapesUndisplayableText() {
        #expect(TextSafety.escaped("a\u{1B}[31mb\n\u{202E}") == "a\\e[31mb\\n\\u{202E}")
    }
}
