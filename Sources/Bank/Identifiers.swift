/// An account id: 1–32 ASCII letters, digits, `-` or `_`, compared case-insensitively
/// (stored in lower case).
public struct AccountID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The id in lower case.
    public let rawValue: String

    /// Validates and normalises an id as typed.
    ///
    /// - Throws: ``InvalidInput`` naming what is wrong.
    public init(parsing text: String) throws(InvalidInput) {
        let bytes = Array(text.utf8)
        guard (1...32).contains(bytes.count) else {
            throw InvalidInput(
                bytes.isEmpty
                    ? "account id is empty" : "invalid account id \(InvalidInput.quoted(text)): at most 32 characters")
        }
        guard bytes.allSatisfy(AccountID.isAllowed) else {
            throw InvalidInput(
                "invalid account id \(InvalidInput.quoted(text)): use ASCII letters, digits, - and _ only")
        }
        rawValue = String(decoding: bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// Wraps an id read back from the store, which was validated when it was written.
    public init(stored: String) {
        rawValue = stored
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    public static func < (lhs: AccountID, rhs: AccountID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { rawValue }
}

/// An account owner's name: printable text of 1–64 characters; control characters, escape
/// sequences and invisible formatting (such as right-to-left overrides) are refused.
public struct OwnerName: Hashable, Sendable, CustomStringConvertible {
    /// The name as given.
    public let rawValue: String

    /// Validates a name as typed.
    ///
    /// - Throws: ``InvalidInput`` naming what is wrong.
    public init(parsing text: String) throws(InvalidInput) {
        guard !text.isEmpty, text.contains(where: { !$0.isWhitespace }) else {
            throw InvalidInput("owner name is empty; give one with --owner \"Alice Smith\"")
        }
        guard text.unicodeScalars.allSatisfy(TextSafety.isDisplayable) else {
            throw InvalidInput(
                "invalid owner name \(InvalidInput.quoted(text)): control characters, escape sequences and invisible formatting are not allowed"
            )
        }
        guard text.count <= 64 else {
            throw InvalidInput(
                "invalid owner name \(InvalidInput.quoted(text)): at most 64 characters (has \(text.count))")
        }
        guard text.utf8.count <= 1024 else {
            throw InvalidInput("invalid owner name \(InvalidInput.quoted(text)): too long")
        }
        rawValue = text
    }

    /// Wraps a name read back from the store.
    public init(stored: String) {
        rawValue = stored
    }

    public var description: String { rawValue }
}
