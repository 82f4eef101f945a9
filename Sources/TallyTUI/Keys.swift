/// A key as the TUI understands it, decoded from the terminal.
public enum Key: Hashable, Sendable {
    case character(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, backspace, delete, tab, backTab
    /// Ctrl plus a letter (`ctrl("l")` is Ctrl-L).
    case control(Character)
    /// The terminal changed size.
    case resize
}
