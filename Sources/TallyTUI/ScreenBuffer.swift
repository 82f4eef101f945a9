import Bank
import TallyCLI

/// How a cell is drawn. Every style stays readable without colour (bold, reverse, dim or a
/// text marker carries the meaning); colour only adds to it.
public enum Style: Int, Sendable, CaseIterable {
    case normal, bold, dim, header, banner, selected, deposit, withdrawal, transfer, opened, closed, error, success,
        frame
}

/// One terminal cell: a character (or the empty continuation of a wide one) and its style.
public struct Cell: Equatable, Sendable {
    /// The grapheme drawn here; empty for the right half of a two-cell character.
    public var text: String
    /// Its style.
    public var style: Style

    static let blank = Cell(text: " ", style: .normal)
}

/// A frame being drawn: a grid of cells, clipped at every edge. Pure Swift: the ncurses
/// terminal copies it to the screen, the in-memory terminal keeps it for tests.
public struct ScreenBuffer: Equatable, Sendable {
    /// Size in cells.
    public let width: Int
    public let height: Int
    /// Row-major cells.
    public private(set) var cells: [Cell]
    /// Whether a two-cell character was ever drawn (until then no cell can be half of one).
    private var holdsWideCharacters = false

    /// One-scalar strings for every simple scalar, made once: a frame draws thousands of cells.
    private static let scalarStrings: [String] = (0..<0x3000).map { value in
        Unicode.Scalar(UInt32(value)).map { String($0) } ?? " "
    }

    private static func string(of scalar: Unicode.Scalar) -> String {
        Int(scalar.value) < scalarStrings.count ? scalarStrings[Int(scalar.value)] : String(scalar)
    }

    /// A blank frame.
    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    /// Frames are equal when they show the same cells.
    public static func == (lhs: ScreenBuffer, rhs: ScreenBuffer) -> Bool {
        lhs.width == rhs.width && lhs.height == rhs.height && lhs.cells == rhs.cells
    }

    /// The cell at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> Cell { cells[y * width + x] }

    /// Writes `text` at (`x`, `y`), at most `limit` cells wide (to the right edge when nil),
    /// measuring by terminal cells. Text must already be sanitised; anything undisplayable is
    /// escaped here once more, so nothing raw ever reaches a terminal. Returns the cells used.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style = .normal, limit: Int? = nil) -> Int {
        guard y >= 0, y < height, x < width else { return 0 }
        let end = min(width, limit.map { x + max(0, $0) } ?? width)
        // Fast path: printable ASCII is one cell a byte and needs no escaping.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            var column = x
            for byte in text.utf8 {
                if column >= end { break }
                if column >= 0 {
                    clearWideCharacter(at: column, y: y)
                    cells[y * width + column] = Cell(text: ScreenBuffer.scalarStrings[Int(byte)], style: style)
                }
                column += 1
            }
            return column - x
        }
        // Simple scalars (CellWidth.simpleCount) are each a displayable one-cell character.
        if CellWidth.simpleCount(text) != nil {
            var column = x
            for scalar in text.unicodeScalars {
                if column >= end { break }
                if column >= 0 {
                    clearWideCharacter(at: column, y: y)
                    cells[y * width + column] = Cell(text: ScreenBuffer.string(of: scalar), style: style)
                }
                column += 1
            }
            return column - x
        }
        var column = x
        for character in TextSafety.escaped(text) {
            let cells = CellWidth.of(character)
            if cells == 0 { continue }
            if column + cells > end { break }
            if column >= 0 {
                for covered in column..<(column + cells) { clearWideCharacter(at: covered, y: y) }
                self.cells[y * width + column] = Cell(text: String(character), style: style)
                if cells == 2 {
                    self.cells[y * width + column + 1] = Cell(text: "", style: style)
                    holdsWideCharacters = true
                }
            }
            column += cells
        }
        return column - x
    }

    /// Before a cell is overwritten, blanks the other half of a two-cell character it belongs
    /// to, so that no half character is left to push the row out of line.
    private mutating func clearWideCharacter(at x: Int, y: Int) {
        guard holdsWideCharacters else { return }
        let index = y * width + x
        if cells[index].text.isEmpty, x > 0 {
            cells[index - 1] = Cell(text: " ", style: cells[index - 1].style)
        } else if x + 1 < width, cells[index + 1].text.isEmpty {
            cells[index + 1] = Cell(text: " ", style: cells[index + 1].style)
        }
    }

    /// Fills a rectangle with spaces in `style`.
    public mutating func fill(x: Int, y: Int, width fillWidth: Int, height fillHeight: Int, style: Style) {
        for row in max(0, y)..<min(height, y + fillHeight) {
            for column in max(0, x)..<min(width, x + fillWidth) {
                clearWideCharacter(at: column, y: row)
                cells[row * width + column] = Cell(text: " ", style: style)
            }
        }
    }

    /// Draws a box outline with an optional title.
    public mutating func box(
        x: Int, y: Int, width boxWidth: Int, height boxHeight: Int, title: String = "", style: Style = .frame
    ) {
        guard boxWidth >= 2, boxHeight >= 2 else { return }
        func set(_ text: String, _ column: Int, _ row: Int) {
            guard column >= 0, column < width, row >= 0, row < height else { return }
            clearWideCharacter(at: column, y: row)
            cells[row * width + column] = Cell(text: text, style: style)
        }
        for column in (x + 1)..<(x + boxWidth - 1) {
            set("─", column, y)
            set("─", column, y + boxHeight - 1)
        }
        for row in (y + 1)..<(y + boxHeight - 1) {
            set("│", x, row)
            set("│", x + boxWidth - 1, row)
        }
        set("┌", x, y)
        set("┐", x + boxWidth - 1, y)
        set("└", x, y + boxHeight - 1)
        set("┘", x + boxWidth - 1, y + boxHeight - 1)
        if !title.isEmpty { put(" " + title + " ", x: x + 2, y: y, style: .bold, limit: boxWidth - 4) }
    }

    /// The frame as plain text, one line per row, trailing spaces trimmed: what a person sees.
    public var text: String {
        (0..<height).map { row in
            var line = ""
            for column in 0..<width { line += cells[row * width + column].text }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }.joined(separator: "\n")
    }
}
