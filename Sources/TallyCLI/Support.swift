import Bank
import EventSourcing
import Foundation

/// Measures text in terminal cells: wide East Asian characters and most emoji take two.
public enum CellWidth {
    /// The number of terminal cells `text` takes (its undisplayable scalars must already be
    /// escaped).
    public static func of(_ text: String) -> Int {
        if let count = simpleCount(text) { return count }
        return text.reduce(0) { $0 + of($1) }
    }

    /// The number of scalars in `text` if every one is "simple": displayable, one cell wide,
    /// and unable to join a neighbour into one character (no marks, joiners, selectors,
    /// Hangul jamo or control characters), so that each scalar is a character of one cell.
    /// Nil otherwise. Measuring such text needs no grapheme breaking.
    @inline(__always)
    public static func simpleCount(_ text: String) -> Int? {
        var count = 0
        for scalar in text.unicodeScalars {
            guard isSimple(scalar) else { return nil }
            count += 1
        }
        return count
    }

    /// Whether `scalar` is simple (see ``simpleCount(_:)``).
    @inline(__always)
    public static func isSimple(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 { return value >= 0x20 && value < 0x7F }
        return value < UInt32(simpleTable.count) && simpleTable[Int(value)]
    }

    /// Simple scalars below U+3000, decided once from the same rules that measure and escape
    /// characters one by one. Letters, digits, punctuation, symbols and spaces only (every
    /// category that can extend or join a character is left out), narrow, displayable; the
    /// Hangul jamo and the one letter that prefixes a character (U+0D4E) are left out too.
    private static let simpleTable: [Bool] = (0..<0x3000).map { value in
        guard let scalar = Unicode.Scalar(UInt32(value)), value >= 0x20, value != 0x7F else { return false }
        guard !(0x1100...0x11FF).contains(value), value != 0x0D4E, value != 0x200D else { return false }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .otherLetter, .decimalNumber, .letterNumber,
            .otherNumber, .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation, .mathSymbol, .currencySymbol,
            .modifierSymbol, .otherSymbol, .spaceSeparator:
            break
        default:
            return false
        }
        return TextSafety.isDisplayable(scalar) && !scalar.properties.isEmojiPresentation
            && !scalar.properties.isGraphemeExtend && of(Character(scalar)) == 1
    }

    /// The cells one character takes.
    public static func of(_ character: Character) -> Int {
        if character.isASCII { return 1 }
        guard let first = character.unicodeScalars.first else { return 0 }
        if character.unicodeScalars.contains(where: { $0.properties.isEmojiPresentation })
            || (character.unicodeScalars.count > 1 && character.unicodeScalars.contains("\u{FE0F}"))
        {
            return 2
        }
        return isWide(first.value) ? 2 : (first.properties.generalCategory == .nonspacingMark ? 0 : 1)
    }

    private static func isWide(_ value: UInt32) -> Bool {
        switch value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
            0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
            0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return true
        default:
            return false
        }
    }

    /// `text` cut to at most `width` cells (ending in `…` when cut) and padded with spaces to
    /// exactly `width` cells.
    public static func fit(_ text: String, _ width: Int, rightAligned: Bool = false) -> String {
        guard width > 0 else { return "" }
        if let total = simpleCount(text) {
            // One cell a scalar: cut and pad by scalars.
            if total <= width { return rightAligned ? spaces(width - total) + text : text + spaces(width - total) }
            var cut = String(String.UnicodeScalarView(text.unicodeScalars.prefix(width - 1)))
            cut.append("…")
            return cut
        }
        var result = ""
        var used = 0
        let total = of(text)
        if total <= width {
            result = text
            used = total
        } else {
            for character in text {
                let cells = of(character)
                if used + cells > width - 1 { break }
                result.append(character)
                used += cells
            }
            result.append("…")
            used += 1
        }
        let padding = spaces(max(0, width - used))
        return rightAligned ? padding + result : result + padding
    }

    /// `count` spaces (made once for the short runs a frame pads with).
    private static func spaces(_ count: Int) -> String {
        count < paddings.count ? paddings[count] : String(repeating: " ", count: count)
    }

    private static let paddings = (0..<256).map { String(repeating: " ", count: $0) }
}

/// Plain-text tables for the command line, aligned by terminal cells.
enum Table {
    static func render(header: [String], rows: [[String]], rightAligned: Set<Int>) -> String {
        var widths = header.map(CellWidth.of)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], CellWidth.of(cell)) }
        }
        return ([header] + rows).map { row in
            row.enumerated().map { column, cell in
                CellWidth.fit(cell, widths[column], rightAligned: rightAligned.contains(column))
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n")
    }
}

/// One event as a line of `tally log`.
public enum LogLine {
    /// The event's data as JSON members, per the command-line contract.
    static func data(_ event: BankEvent) -> [(String, JSON.Value)] {
        switch event {
        case .accountOpened(let opened): return [("owner", .string(opened.owner.rawValue))]
        case .moneyDeposited(let deposited): return [("amount_minor", .integer(deposited.amount.minorUnits))]
        case .moneyWithdrawn(let withdrawn): return [("amount_minor", .integer(withdrawn.amount.minorUnits))]
        case .moneyTransferred(let transferred):
            return [
                ("from", .string(transferred.from.rawValue)), ("to", .string(transferred.to.rawValue)),
                ("amount_minor", .integer(transferred.amount.minorUnits)),
            ]
        case .accountClosed: return []
        }
    }

    /// The event's data alone, as JSON.
    public static func dataJSON(_ event: BankEvent) -> String { JSON.text(.object(data(event))) }

    /// The JSON Lines form.
    public static func json(_ metadata: EventMetadata, _ event: BankEvent) -> String {
        JSON.text(
            .object([
                ("position", .integer(Int64(metadata.position))), ("type", .string(metadata.typeName)),
                ("account", .string(metadata.stream)), ("version", .integer(Int64(metadata.streamVersion))),
                ("timestamp", .string(metadata.timestamp.iso8601)), ("command_id", .string(metadata.commandID)),
                ("data", .object(data(event))),
            ]))
    }

    /// The human-readable form: position, time, type, account(s), amount.
    public static func text(_ metadata: EventMetadata, _ event: BankEvent) -> String {
        let subject: String
        switch event {
        case .accountOpened(let opened):
            subject = "\(opened.account)  owner \(TextSafety.escaped(opened.owner.rawValue))"
        case .moneyTransferred(let transferred):
            subject = "\(transferred.from) → \(transferred.to)  \(transferred.amount.grouped)"
        case .moneyDeposited, .moneyWithdrawn: subject = "\(metadata.stream)  \(event.amount?.grouped ?? "")"
        case .accountClosed: subject = metadata.stream
        }
        return
            "#\(metadata.position)  \(metadata.timestamp.iso8601)  \(CellWidth.fit(metadata.typeName, 16))  \(subject)"
    }
}

/// Reads the demo data from `Assets/demo`, wherever the build put it, and appends demo histories.
public enum DemoAssets {
    static let bundleName = "tally_TallyAssets.resources"

    /// Appends a reproducible demo history of `events` events to the empty `store`, with group
    /// commit. The same seed always gives the same bytes.
    ///
    /// - Throws: ``StoreError`` when the data files cannot be found or the store fails.
    public static func appendDemo(
        to store: any EventStore, seed: UInt64, events: Int, environment: [String: String], clock: any Clock
    ) throws -> Int {
        let data = try load(environment: environment)
        var generator = DemoGenerator(data: data, seed: seed)
        let processor = CommandProcessor<Ledger, BankCodec>(
            store: store, clock: clock, makeCommandID: commandIDs(seed: seed))
        return try processor.handleGroup(generator.commands(count: events)).appendedEvents
    }

    /// The demo data: people, shops and typical amounts.
    public static func load(environment: [String: String]) throws -> DemoData {
        guard let directory = directory(environment: environment) else {
            throw StoreError(
                .io, "demo data not found: set TALLY_ASSETS to the Assets/demo folder of the tally sources")
        }
        func read(_ name: String) throws -> String {
            do {
                return try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            } catch {
                throw StoreError(.io, "cannot read demo data \(directory)/\(name)")
            }
        }
        return try DemoData(people: read("people.tsv"), merchants: read("merchants.tsv"), amounts: read("amounts.tsv"))
    }

    /// `$TALLY_ASSETS`, the resource bundle beside the executable, or the source tree.
    private static func directory(environment: [String: String]) -> String? {
        var candidates: [String] = []
        if let explicit = environment["TALLY_ASSETS"] { candidates.append(explicit) }
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let binDirectory = (executable as NSString).deletingLastPathComponent
        candidates.append(binDirectory + "/" + bundleName + "/demo")
        candidates.append(binDirectory + "/" + bundleName)
        let sourceRoot = ((#filePath as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        candidates.append((sourceRoot as NSString).deletingLastPathComponent + "/Assets/demo")
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/people.tsv") }
    }

    /// Reproducible command ids for the demo: `demo-<seed>-<n>`.
    public static func commandIDs(seed: UInt64) -> () -> String {
        final class Counter { var value = 0 }
        let counter = Counter()
        return {
            counter.value += 1
            return "demo-\(seed)-\(counter.value)"
        }
    }
}

/// `tally verify`: reads the whole store without changing it, checks every record's checksum
/// and chain link, decodes every event, and replays the history through the ledger's rules.
enum StoreVerifier {
    struct Report {
        var records: Int
        var notice: String?
    }

    static func verify(path: String) throws -> Report {
        let store = try FileEventStore(path: path, repairing: false)
        var state = Ledger.initialState
        try store.forEachRecord(from: 1, through: store.lastPosition) { record in
            let event = try BankCodec.decode(record)
            do {
                let decided = try Ledger.decide(command(recreating: event), state: state)
                guard decided == [event] else {
                    throw UndecodableEvent(
                        position: record.position, reason: "event does not follow the ledger's rules")
                }
            } catch let rejection as BankRejection {
                throw StoreError(
                    .corrupt, "event at position \(record.position) breaks the ledger's rules: \(rejection)",
                    path: path,
                    position: record.position)
            }
            Ledger.evolve(&state, with: event)
        }
        return Report(records: store.lastPosition, notice: store.recoveryNotice)
    }

    private static func command(recreating event: BankEvent) -> BankCommand {
        switch event {
        case .accountOpened(let e): return .open(e.account, owner: e.owner)
        case .moneyDeposited(let e): return .deposit(e.account, amount: e.amount)
        case .moneyWithdrawn(let e): return .withdraw(e.account, amount: e.amount)
        case .moneyTransferred(let e): return .transfer(from: e.from, to: e.to, amount: e.amount)
        case .accountClosed(let e): return .close(e.account)
        }
    }
}
