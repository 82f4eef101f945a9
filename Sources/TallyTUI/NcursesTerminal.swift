import CNcurses
import EventSourcing
import Glibc

/// The real terminal, through ncursesw.
///
/// Threading: create, use and close it on one thread; ncurses is not thread-safe.
public final class NcursesTerminal: Terminal {
    private let screen: OpaquePointer
    private let useColor: Bool
    private var isOpen = true
    private var attributes: [Style: Int32] = [:]

    /// Errors starting the terminal.
    public struct StartFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Takes over the terminal. Colours are off when `NO_COLOR` is set (to anything).
    public init(environment: [String: String]) throws {
        // A parent may have started us with these blocked (threads of test runners and some
        // supervisors block most signals, and children inherit the mask); resize and clean
        // shutdown depend on them.
        var wanted = sigset_t()
        sigemptyset(&wanted)
        for signal in [SIGWINCH, SIGTERM, SIGHUP, SIGINT] { sigaddset(&wanted, signal) }
        pthread_sigmask(SIG_UNBLOCK, &wanted, nil)
        setlocale(LC_ALL, "")
        if let ctype = setlocale(LC_CTYPE, nil), !String(cString: ctype).lowercased().contains("utf") {
            // Box drawing and names need UTF-8 whatever the locale says.
            setlocale(LC_CTYPE, "C.UTF-8")
        }
        guard let screen = tally_newterm() else {
            throw StartFailure(
                description:
                    "cannot start the terminal (TERM=\(environment["TERM"] ?? "unset")); use the commands instead, see tally --help"
            )
        }
        self.screen = screen
        useColor = (environment["NO_COLOR"] ?? "").isEmpty && has_colors()
        raw()
        noecho()
        nonl()
        keypad(tally_stdscr(), true)
        set_escdelay(25)
        curs_set(0)
        if useColor {
            start_color()
            use_default_colors()
            let pairs: [(Int16, Int16, Int16)] = [
                (1, Int16(COLOR_BLACK), Int16(COLOR_CYAN)), (2, Int16(COLOR_BLACK), Int16(COLOR_YELLOW)),
                (3, Int16(COLOR_GREEN), -1), (4, Int16(COLOR_RED), -1), (5, Int16(COLOR_CYAN), -1),
                (6, Int16(COLOR_BLUE), -1), (7, Int16(COLOR_MAGENTA), -1),
            ]
            for (pair, foreground, background) in pairs { init_pair(pair, foreground, background) }
        }
        for style in Style.allCases { attributes[style] = attribute(for: style) }
        signal(SIGTERM) { _ in terminationRequested = 1 }
        signal(SIGHUP) { _ in terminationRequested = 1 }
    }

    deinit { close() }

    /// Gives the terminal back as it was. Safe to call more than once.
    public func close() {
        guard isOpen else { return }
        isOpen = false
        curs_set(1)
        endwin()
        delscreen(screen)
    }

    public var size: (width: Int, height: Int) { (Int(tally_columns()), Int(tally_lines())) }

    private func attribute(for style: Style) -> Int32 {
        let bold = Int32(tally_a_bold())
        let reverse = Int32(tally_a_reverse())
        let dim = Int32(tally_a_dim())
        func color(_ pair: Int32) -> Int32 { useColor ? Int32(tally_color_pair(pair)) : 0 }
        switch style {
        case .normal, .frame: return 0
        case .bold: return bold
        case .dim: return dim
        case .header: return useColor ? color(1) | bold : reverse | bold
        case .banner: return useColor ? color(2) | bold : reverse | bold
        case .selected: return reverse | bold
        case .deposit, .success: return color(3)
        case .withdrawal: return color(4)
        case .error: return color(4) | bold
        case .transfer: return color(5)
        case .opened: return color(6) | bold
        case .closed: return color(7) | dim
        }
    }

    public func present(_ frame: ScreenBuffer) {
        let window = tally_stdscr()
        werase(window)
        for row in 0..<min(frame.height, Int(tally_lines())) {
            var column = 0
            while column < frame.width {
                let style = frame[column, row].style
                let start = column
                var run = ""
                while column < frame.width && frame[column, row].style == style {
                    run += frame[column, row].text
                    column += 1
                }
                wattrset(window, attributes[style] ?? 0)
                // The last cell of the last row makes addstr report ERR (it would scroll); the
                // text is drawn all the same.
                _ = mvwaddstr(window, Int32(row), Int32(start), run)
            }
        }
        wattrset(window, 0)
        wnoutrefresh(window)
        doupdate()
    }

    public func invalidate() {
        tally_invalidate()
    }

    public func readKeys(timeoutMilliseconds: Int) -> [Key] {
        let window = tally_stdscr()
        var keys: [Key] = []
        wtimeout(window, Int32(timeoutMilliseconds))
        while let key = readKey(window) {
            keys.append(key)
            wtimeout(window, 0)  // drain what is already pending, then stop
            if keys.count > 512 { break }
        }
        return keys
    }

    private func readKey(_ window: UnsafeMutablePointer<WINDOW>?) -> Key? {
        var character: wint_t = 0
        let result = wget_wch(window, &character)
        if result == ERR { return nil }
        if result == tally_key_code_yes() {
            switch Int32(character) {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_PPAGE: return .pageUp
            case KEY_NPAGE: return .pageDown
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_ENTER: return .enter
            case KEY_BACKSPACE: return .backspace
            case KEY_DC: return .delete
            case KEY_BTAB: return .backTab
            case KEY_RESIZE: return .resize
            default: return readKey(window)
            }
        }
        switch character {
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .escape
        case 8, 127: return .backspace
        case 1...26: return .control(Character(Unicode.Scalar(UInt8(character) + 96)))
        default:
            guard let scalar = Unicode.Scalar(UInt32(character)), scalar.value >= 32 else { return readKey(window) }
            return .character(Character(scalar))
        }
    }
}

/// Starts the TUI on the store at `path` and runs it until the user quits.
public enum TallyTUIMain {
    /// Runs the TUI; returns the process exit status. The terminal is restored on every exit.
    public static func run(path: String, environment: [String: String], lockTimeoutMilliseconds: Int) -> Int32 {
        let terminal: NcursesTerminal
        do {
            terminal = try NcursesTerminal(environment: environment)
        } catch {
            let line = "tally: \(error)\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
            return 3
        }
        defer { terminal.close() }
        do {
            let store = try FileEventStore(path: path, lockTimeoutMilliseconds: lockTimeoutMilliseconds)
            let session = try LedgerSession(
                store: store, path: path, environment: environment, snapshotPath: path + ".snapshot",
                makeCommandID: { UUIDs.make() })
            TallyApp(session: session, terminal: terminal).run()
            terminal.close()  // the terminal first: the user is done with it
            // Leave a snapshot of the read models when it saves the next start a real replay.
            // It is a cache: if it cannot be written, the next start replays the log.
            if session.lastPosition - (session.startedFromSnapshot ?? 0) >= LedgerSession.snapshotWorthwhile {
                try? session.saveSnapshot()
            }
            return 0
        } catch {
            showProblem("\(error)", on: terminal)
            return 3
        }
    }

    /// Shows a store problem until the user quits.
    static func showProblem(_ message: String, on terminal: any Terminal) {
        while terminationRequested == 0 {
            let (width, height) = terminal.size
            var frame = ScreenBuffer(width: width, height: height)
            frame.put("Tally cannot open this store:", x: 1, y: 1, style: .bold)
            var line = 3
            var rest = Substring(message)
            while !rest.isEmpty && line < height - 2 {
                let piece = rest.prefix(max(10, width - 4))
                frame.put(String(piece), x: 2, y: line, style: .error)
                rest = rest.dropFirst(piece.count)
                line += 1
            }
            frame.put(
                "Run `tally verify` for details. Press q to quit.", x: 1, y: min(height - 1, line + 1), style: .dim)
            terminal.present(frame)
            let keys = terminal.readKeys(timeoutMilliseconds: 250)
            if keys.contains(.character("q")) || keys.contains(.control("c")) || keys.contains(.escape) { return }
        }
    }
}

/// Random command ids for commands typed in the TUI.
enum UUIDs {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = (generator.next() as UInt64, generator.next() as UInt64)
        return String(value.0, radix: 16) + String(value.1, radix: 16)
    }
}
