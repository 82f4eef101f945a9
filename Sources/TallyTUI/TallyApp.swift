import Bank
import EventSourcing
import Glibc

/// Set by SIGTERM and SIGHUP; the loop checks it and shuts down cleanly.
nonisolated(unsafe) var terminationRequested: sig_atomic_t = 0

/// The TUI's main loop: read keys, reduce, run effects, follow the store, draw once.
///
/// Threading: runs on the calling thread, which must own the terminal.
public final class TallyApp {
    private let session: LedgerSession
    private let terminal: any Terminal
    private let clock: () -> Double
    /// The UI state (exposed for tests).
    public private(set) var state = UIState()
    private var lastTick: Double

    /// How often the store is checked for other processes' appends, at the latest.
    public static let followIntervalMilliseconds = 100

    /// Creates the app.
    ///
    /// - Parameter monotonicSeconds: a monotonic clock in seconds (injected for tests).
    public init(
        session: LedgerSession, terminal: any Terminal,
        monotonicSeconds: @escaping () -> Double = TallyApp.monotonicSeconds
    ) {
        self.session = session
        self.terminal = terminal
        self.clock = monotonicSeconds
        self.lastTick = monotonicSeconds()
        _ = UIState.reduce(into: &state, .storeAdvanced(to: session.lastPosition))
        if let notice = (session.store as? FileEventStore)?.recoveryNotice {
            state.status = StatusMessage(notice)
        }
    }

    /// Runs until the user quits or SIGTERM arrives.
    public func run() {
        draw()
        while !state.shouldQuit && terminationRequested == 0 {
            let keys = terminal.readKeys(
                timeoutMilliseconds: state.isPlaying ? 20 : TallyApp.followIntervalMilliseconds)
            step(keys: keys)
        }
    }

    /// One turn of the loop: apply `keys`, advance playback, follow the store, draw once.
    public func step(keys: [Key]) {
        // Draw only when something may have changed: an idle dashboard costs no CPU.
        var changed = !keys.isEmpty || state.isPlaying || !hasDrawn
        for key in keys {
            if key == .resize {
                terminal.invalidate()
                continue
            }
            if let action = UIState.action(for: key, in: state) { dispatch(action) }
        }
        let now = clock()
        dispatch(.ticked(seconds: now - lastTick))
        lastTick = now
        if follow() { changed = true }
        if terminal.size != drawnSize { changed = true }
        if changed {
            draw()
        } else if !timelinePrepared {
            // An idle turn: make time travel's checkpoints before they are needed.
            timelinePrepared = session.prepareTimeline()
        }
    }

    /// Whether every checkpoint of the timeline is made (until the log grows past them).
    private var timelinePrepared = false

    private func dispatch(_ action: UIState.Action) {
        for effect in UIState.reduce(into: &state, action) {
            switch effect {
            case .run(let command):
                let message = session.run(command)
                _ = UIState.reduce(into: &state, .storeAdvanced(to: session.lastPosition))
                _ = UIState.reduce(into: &state, .commandFinished(message))
            case .loadDemo:
                let message = session.loadDemo()
                _ = UIState.reduce(into: &state, .storeAdvanced(to: session.lastPosition))
                _ = UIState.reduce(into: &state, .commandFinished(message))
            case .redraw:
                terminal.invalidate()
            }
        }
    }

    /// Delivers other processes' appends; returns whether anything changed.
    private func follow() -> Bool {
        do {
            if try session.pump() > 0 || state.lastPosition != session.lastPosition {
                timelinePrepared = false
                _ = UIState.reduce(into: &state, .storeAdvanced(to: session.lastPosition))
                return true
            }
            return false
        } catch {
            let message = StatusMessage("store problem: \(error) — q quits", .error)
            defer { state.status = message }
            return state.status != message
        }
    }

    private var hasDrawn = false
    private var drawnSize = (width: 0, height: 0)

    private func draw() {
        let (width, height) = terminal.size
        hasDrawn = true
        drawnSize = (width, height)
        state.pageSize = max(1, Renderer.timelineRows(height: height))
        if let count = try? session.dashboard(at: state.cursor).balances.count, count != state.accountCount {
            _ = UIState.reduce(into: &state, .accountsCounted(count))
        }
        do {
            terminal.present(try Renderer.render(state, session: session, width: width, height: height))
        } catch {
            var frame = ScreenBuffer(width: width, height: height)
            frame.put("store problem: \(error)", x: 0, y: 0, style: .error)
            frame.put("q quits", x: 0, y: 1, style: .dim)
            terminal.present(frame)
        }
    }

    /// Seconds on the monotonic clock.
    public static func monotonicSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
