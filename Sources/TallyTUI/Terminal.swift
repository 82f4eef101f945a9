/// A character-cell terminal the TUI draws on and reads keys from.
///
/// Threading: every call happens on the one thread that runs the TUI (ncurses is not
/// thread-safe); implementations need not be `Sendable`.
public protocol Terminal: AnyObject {
    /// The current size in cells.
    var size: (width: Int, height: Int) { get }

    /// Shows `frame` (which has the current size), replacing what was there.
    func present(_ frame: ScreenBuffer)

    /// Waits up to `timeoutMilliseconds` for a key, then returns it and every key already
    /// pending (so that a held arrow key is applied in one go), or nothing on time-out.
    func readKeys(timeoutMilliseconds: Int) -> [Key]

    /// Forces the next `present` to repaint every cell.
    func invalidate()
}

/// A terminal in memory: keys are scripted, frames are kept. For tests.
public final class InMemoryTerminal: Terminal {
    public var size: (width: Int, height: Int)
    /// Keys still to be read, in batches (each `readKeys` call returns one batch).
    public var pendingKeys: [[Key]] = []
    /// Every frame presented.
    public private(set) var frames: [ScreenBuffer] = []
    /// How many times a full repaint was asked for.
    public private(set) var invalidations = 0

    /// Creates a terminal of the given size.
    public init(width: Int, height: Int) {
        size = (width, height)
    }

    /// The last frame presented.
    public var lastFrame: ScreenBuffer? { frames.last }

    public func present(_ frame: ScreenBuffer) { frames.append(frame) }

    public func readKeys(timeoutMilliseconds: Int) -> [Key] {
        pendingKeys.isEmpty ? [] : pendingKeys.removeFirst()
    }

    public func invalidate() { invalidations += 1 }
}
