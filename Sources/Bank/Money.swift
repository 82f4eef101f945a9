/// An exact amount of money in integer minor units (cents). Never floating point.
public struct Money: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The amount in minor units.
    public let minorUnits: Int64

    /// Creates an amount from minor units.
    public init(minorUnits: Int64) {
        self.minorUnits = minorUnits
    }

    /// Zero.
    public static let zero = Money(minorUnits: 0)

    /// The largest amount a single command may move: 1,000,000,000.00.
    public static let maximumAmount = Money(minorUnits: 100_000_000_000)

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.minorUnits < rhs.minorUnits }

    /// The sum, or nil when it would overflow.
    public func adding(_ other: Money) -> Money? {
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        return overflow ? nil : Money(minorUnits: sum)
    }

    /// The difference, or nil when it would overflow.
    public func subtracting(_ other: Money) -> Money? {
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        return overflow ? nil : Money(minorUnits: difference)
    }

    /// The amount in major units with two decimals: `12.50`, `-3.05`.
    public var description: String {
        let magnitude = minorUnits.magnitude
        let cents = magnitude % 100
        return (minorUnits < 0 ? "-" : "") + "\(magnitude / 100)." + (cents < 10 ? "0" : "") + "\(cents)"
    }

    /// The amount with thousands separators: `1,234,567.50`.
    public var grouped: String {
        let magnitude = minorUnits.magnitude
        let cents = magnitude % 100
        return (minorUnits < 0 ? "-" : "") + Money.groupThousands(String(magnitude / 100)) + "."
            + (cents < 10 ? "0" : "") + "\(cents)"
    }

    /// A string of digits with a comma between each group of three: `1234567` → `1,234,567`.
    public static func groupThousands(_ digits: String) -> String {
        var bytes = Array(digits.utf8)
        var index = bytes.count - 3
        while index > 0 {
            bytes.insert(UInt8(ascii: ","), at: index)
            index -= 3
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses an amount as typed by a person: digits, optionally `.` and one or two digits;
    /// greater than zero; at most ``maximumAmount``.
    ///
    /// - Throws: ``InvalidInput`` naming what is wrong.
    public static func parseAmount(_ text: String) throws(InvalidInput) -> Money {
        let shown = InvalidInput.quoted(text)
        guard !text.isEmpty else { throw InvalidInput("amount is empty; write it like 12.50") }
        let bytes = Array(text.utf8)
        let point = bytes.firstIndex(of: UInt8(ascii: "."))
        let whole = bytes[..<(point ?? bytes.count)]
        let fraction = point.map { bytes[($0 + 1)...] } ?? []
        func isDigits(_ part: ArraySlice<UInt8>) -> Bool {
            part.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        }
        guard !whole.isEmpty, isDigits(whole), isDigits(fraction), point == nil || (1...2).contains(fraction.count)
        else {
            throw InvalidInput(
                "invalid amount \(shown): use digits with up to two decimals, like 12 or 12.50 (no signs, commas or exponents)"
            )
        }
        let significant = whole.drop { $0 == UInt8(ascii: "0") }
        guard significant.count <= 10 else {
            throw InvalidInput("invalid amount \(shown): at most \(maximumAmount.grouped) per command")
        }
        var minor: Int64 = 0
        for digit in significant { minor = minor * 10 + Int64(digit - UInt8(ascii: "0")) }
        minor *= 100
        if fraction.count >= 1 { minor += Int64(fraction[fraction.startIndex] - UInt8(ascii: "0")) * 10 }
        if fraction.count == 2 { minor += Int64(fraction[fraction.startIndex + 1] - UInt8(ascii: "0")) }
        guard minor > 0 else { throw InvalidInput("invalid amount \(shown): must be greater than zero") }
        guard minor <= maximumAmount.minorUnits else {
            throw InvalidInput("invalid amount \(shown): at most \(maximumAmount.grouped) per command")
        }
        return Money(minorUnits: minor)
    }
}

/// Input that breaks the syntax rules (amount, id, name): the message says what is wrong and
/// how to write it instead.
public struct InvalidInput: Error, Sendable, Equatable, CustomStringConvertible {
    /// A one-line explanation.
    public var message: String

    /// Creates the error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }

    /// `text` in quotes, with anything unprintable escaped and long text shortened, safe to
    /// show on a terminal.
    public static func quoted(_ text: String, limit: Int = 40) -> String {
        let escaped = TextSafety.escaped(text)
        let shortened = escaped.count > limit ? escaped.prefix(limit) + "…" : Substring(escaped)
        return "\"" + shortened + "\""
    }
}

/// Makes text from users or files safe to show on a terminal.
public enum TextSafety {
    /// Whether `scalar` is safe to send to a terminal: not a control, format (bidi),
    /// separator, surrogate, private-use or unassigned code point. The zero-width joiner stays,
    /// for emoji sequences.
    public static func isDisplayable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\u{200D}" { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            return false
        default:
            return true
        }
    }

    /// `text` with every undisplayable scalar shown as an escape: `\e`, `\n`, `\u{202E}`.
    public static func escaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if isDisplayable(scalar) {
                result.unicodeScalars.append(scalar)
            } else if scalar == "\u{1B}" {
                result += "\\e"
            } else if scalar == "\n" {
                result += "\\n"
            } else if scalar == "\t" {
                result += "\\t"
            } else if scalar == "\r" {
                result += "\\r"
            } else {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return result
    }
}
