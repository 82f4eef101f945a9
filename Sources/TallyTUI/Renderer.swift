import Bank
import EventSourcing
import TallyCLI

/// Draws the whole screen from the UI state and the ledger as of the cursor. Pure: the same
/// state and ledger always give the same frame.
public enum Renderer {
    /// The smallest screen the layout fits.
    public static let minimumWidth = 80
    public static let minimumHeight = 24

    /// Renders one frame of `width` × `height` cells.
    public static func render(_ state: UIState, session: LedgerSession, width: Int, height: Int) throws -> ScreenBuffer
    {
        var screen = ScreenBuffer(width: width, height: height)
        guard width >= minimumWidth, height >= minimumHeight else {
            screen.put(
                "terminal too small (needs \(minimumWidth)×\(minimumHeight), have \(width)×\(height)) — q quits", x: 0,
                y: 0,
                style: .error)
            return screen
        }
        drawHeader(&screen, state, session)
        if state.lastPosition == 0 {
            drawWelcome(&screen, session)
        } else {
            let dashboard = try session.dashboard(at: state.cursor)
            let leftWidth = min(84, max(44, width / 2 + 4))
            let bodyHeight = height - 3
            let totalsHeight = 8
            try drawAccounts(&screen, state, session, x: 0, y: 1, width: leftWidth, height: bodyHeight - totalsHeight)
            drawTotals(
                &screen, state, session, dashboard, x: 0, y: 1 + bodyHeight - totalsHeight, width: leftWidth,
                height: totalsHeight)
            let timelineHeight = max(6, bodyHeight * 3 / 5)
            try drawTimeline(
                &screen, state, session, x: leftWidth, y: 1, width: width - leftWidth, height: timelineHeight)
            try drawInspector(
                &screen, state, session, x: leftWidth, y: 1 + timelineHeight, width: width - leftWidth,
                height: bodyHeight - timelineHeight)
        }
        drawStatus(&screen, state, y: height - 2)
        drawFooter(&screen, state, y: height - 1)
        if state.showHelp { drawHelp(&screen) }
        return screen
    }

    /// The number of timeline rows for a screen height (the page size).
    public static func timelineRows(height: Int) -> Int { max(6, (height - 3) * 3 / 5) - 2 }

    // MARK: - Header, status, footer

    private static func drawHeader(_ screen: inout ScreenBuffer, _ state: UIState, _ session: LedgerSession) {
        let isHistory = state.mode == .history
        screen.fill(x: 0, y: 0, width: screen.width, height: 1, style: isHistory ? .banner : .header)
        let mode: String
        if isHistory {
            mode =
                " ◀ HISTORY #\(grouped(state.cursor))/\(grouped(state.lastPosition))\(state.isPlaying ? " ▶ PLAYING \(Int(state.speed))/s" : "") — Esc returns to LIVE "
        } else {
            mode = " ● LIVE #\(grouped(state.lastPosition)) "
        }
        let style: Style = isHistory ? .banner : .header
        var x = screen.put(" Tally ", x: 0, y: 0, style: style)
        x += screen.put(mode, x: x, y: 0, style: style)
        let help = " ? help "
        let helpX = screen.width - CellWidth.of(help)
        screen.put(help, x: helpX, y: 0, style: style)
        let room = helpX - x - 2
        if room > 8 {
            screen.put(CellWidth.fit(session.path, room, rightAligned: true), x: x + 1, y: 0, style: style, limit: room)
        }
    }

    private static func drawStatus(_ screen: inout ScreenBuffer, _ state: UIState, y: Int) {
        guard let status = state.status else { return }
        let style: Style = status.kind == .error ? .error : status.kind == .success ? .success : .normal
        let marker = status.kind == .error ? "✗ " : status.kind == .success ? "✓ " : "· "
        screen.put(marker + status.text, x: 0, y: y, style: style)
    }

    private static func drawFooter(_ screen: inout ScreenBuffer, _ state: UIState, y: Int) {
        switch state.input {
        case .command(let text):
            let x = screen.put(":" + text + "▏", x: 0, y: y, style: .bold)
            let hint: String
            do {
                _ = try PromptParser.parse(text)
                hint = "Enter runs it · Esc cancels"
            } catch {
                hint =
                    text.isEmpty
                    ? "open ID NAME · deposit ID AMOUNT · withdraw ID AMOUNT · transfer FROM TO AMOUNT · close ID"
                    : error.message
            }
            screen.put("  " + hint, x: x, y: y, style: .dim)
        case .filter(let text):
            let x = screen.put("/" + text + "▏", x: 0, y: y, style: .bold)
            screen.put(
                "  filter the timeline by account or event type · Enter applies · empty clears", x: x, y: y, style: .dim
            )
        case nil:
            let hint =
                state.lastPosition == 0
                ? "D load demo · o open account · : command · ? help · q quit"
                : "←/→ step · PgUp/PgDn page · g/G first/live · Space play · / filter · : command · o d w t c · Tab pane · ? help · q quit"
            screen.put(hint, x: 0, y: y, style: .dim)
        }
    }

    // MARK: - Panes

    private static func title(_ name: String, _ pane: Pane, _ state: UIState) -> String {
        state.focus == pane ? "▸ " + name : name
    }

    private static func drawAccounts(
        _ screen: inout ScreenBuffer, _ state: UIState, _ session: LedgerSession, x: Int, y: Int, width: Int,
        height: Int
    ) throws {
        let (accounts, widestID) = try session.sortedAccounts(at: state.cursor)
        screen.box(
            x: x, y: y, width: width, height: height,
            title: title("Accounts at #\(grouped(state.cursor))", .accounts, state))
        let inner = width - 4
        let balanceWidth = 13
        let idWidth = min(14, max(8, widestID))
        // When space is short the trend goes first, then the status column (closed accounts
        // then say so in front of the owner): the owner matters more.
        let statusWidth = inner - idWidth - balanceWidth >= 32 ? 6 : 0
        let sparkWidth = inner - idWidth - statusWidth - balanceWidth >= 36 ? 8 : 0
        let gaps = 2 + (statusWidth > 0 ? 1 : 0) + (sparkWidth > 0 ? 1 : 0)
        let ownerWidth = max(4, inner - idWidth - statusWidth - balanceWidth - sparkWidth - gaps)
        func row(_ columns: [String], _ y: Int, _ style: Style) {
            var text = CellWidth.fit(columns[0], idWidth) + " "
            if statusWidth > 0 {
                text += CellWidth.fit(columns[1], ownerWidth) + " " + CellWidth.fit(columns[2], statusWidth) + " "
            } else {
                let owner = columns[2] == "closed" ? "✕ " + columns[1] : columns[1]
                text += CellWidth.fit(owner, ownerWidth) + " "
            }
            text += CellWidth.fit(columns[3], balanceWidth, rightAligned: true)
            if sparkWidth > 0 { text += " " + CellWidth.fit(columns[4], sparkWidth) }
            screen.put(text, x: x + 2, y: y, style: style, limit: inner)
        }
        row(["ID", "OWNER", "STATUS", "BALANCE", "TREND"], y + 1, .bold)
        let rows = height - 3
        guard rows > 0 else { return }
        let selected = min(state.selectedAccount, max(0, accounts.count - 1))
        let first = max(0, min(selected - rows / 2, accounts.count - rows))
        for (offset, account) in accounts.dropFirst(first).prefix(rows).enumerated() {
            let index = first + offset
            let style: Style =
                index == selected && state.focus == .accounts ? .selected : account.isClosed ? .dim : .normal
            row(
                [
                    account.id.rawValue, TextSafety.escaped(account.owner.rawValue), account.status,
                    account.balance.grouped,
                    sparkline(
                        session.history.recentBalances(of: account.id, through: state.cursor, count: sparkWidth),
                        width: sparkWidth),
                ], y + 2 + offset, style)
        }
        if accounts.isEmpty { screen.put("no accounts yet at this position", x: x + 2, y: y + 2, style: .dim) }
    }

    /// The last balances before the cursor as Unicode blocks, lowest to highest.
    static func sparkline(_ recent: ArraySlice<Int64>, width: Int) -> String {
        let balances = recent.suffix(width)
        guard let high = balances.max(), high > 0 else {
            return String(repeating: "▁", count: min(width, balances.count))
        }
        let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        return String(balances.map { blocks[Int(Double(max(0, $0)) / Double(high) * 7)] })
    }

    private static func drawTotals(
        _ screen: inout ScreenBuffer, _ state: UIState, _ session: LedgerSession, _ dashboard: BankDashboard, x: Int,
        y: Int,
        width: Int, height: Int
    ) {
        screen.box(x: x, y: y, width: width, height: height, title: "Totals & projections")
        let totals = dashboard.totals
        let inner = width - 4
        let wide = inner >= 56
        let left = [
            ("held", totals.moneyHeld.grouped), ("deposited", totals.deposited.grouped),
            ("withdrawn", totals.withdrawn.grouped), ("transfers", totals.transferred.grouped),
            ("accounts", "\(totals.openAccounts) open" + (wide ? " · \(totals.closedAccounts) closed" : "")),
        ]
        let leftWidth = wide ? inner / 2 : 23
        for (index, (label, value)) in left.enumerated() {
            screen.put(
                CellWidth.fit(label, 10) + CellWidth.fit(value, leftWidth - 11, rightAligned: true), x: x + 2,
                y: y + 1 + index)
        }
        // Each read model with the position it has applied and its lag behind the store.
        let live = session.live
        let models: [(String, String, Int)] = [
            ("balances", "bal", dashboard.balances.position), ("totals", "tot", dashboard.totals.position),
            ("activity", "act", dashboard.activity.position),
            ("trail", "trail", min(session.history.position, state.cursor)),
        ]
        let right = x + 2 + leftWidth + 1
        let rightWidth = inner - leftWidth - 1
        let nameWidth = wide ? 10 : 5
        let positionWidth = max(5, rightWidth - nameWidth - 4)
        screen.put(
            CellWidth.fit(wide ? "read model" : "model", nameWidth)
                + CellWidth.fit("at", positionWidth, rightAligned: true) + " lag",
            x: right, y: y + 1, style: .bold, limit: rightWidth)
        for (index, (name, short, position)) in models.enumerated() {
            let lag = max(0, live.position - position)
            let text =
                CellWidth.fit(wide ? name : short, nameWidth)
                + CellWidth.fit("#" + grouped(position), positionWidth, rightAligned: true) + " \(lag)"
            screen.put(text, x: right, y: y + 2 + index, style: lag > 0 ? .dim : .normal, limit: rightWidth)
        }
    }

    private static func style(of event: BankEvent) -> Style {
        switch event {
        case .accountOpened: return .opened
        case .moneyDeposited: return .deposit
        case .moneyWithdrawn: return .withdrawal
        case .moneyTransferred: return .transfer
        case .accountClosed: return .closed
        }
    }

    static func summary(of envelope: Envelope<BankEvent>) -> String {
        switch envelope.event {
        case .accountOpened(let event): return "\(event.account) (\(TextSafety.escaped(event.owner.rawValue)))"
        case .moneyDeposited(let event): return "\(event.account) +\(event.amount.grouped)"
        case .moneyWithdrawn(let event): return "\(event.account) −\(event.amount.grouped)"
        case .moneyTransferred(let event): return "\(event.from) → \(event.to) \(event.amount.grouped)"
        case .accountClosed(let event): return "\(event.account)"
        }
    }

    private static func drawTimeline(
        _ screen: inout ScreenBuffer, _ state: UIState, _ session: LedgerSession, x: Int, y: Int, width: Int,
        height: Int
    ) throws {
        let filterNote = state.filter.isEmpty ? "" : " (filter: \(state.filter))"
        screen.box(x: x, y: y, width: width, height: height, title: title("Timeline\(filterNote)", .timeline, state))
        let rows = height - 2
        guard rows > 0 else { return }
        let events: [Envelope<BankEvent>]
        if state.filter.isEmpty {
            // Newest at the bottom; in history a few of the events after the cursor show, dimmed.
            let after = state.mode == .history ? min(rows / 3, state.lastPosition - state.cursor) : 0
            let last = state.cursor + after
            events = try session.events(from: last - rows + 1, through: last)
        } else {
            events = try session.events(matching: state.filter, through: state.cursor, count: rows)
            if events.isEmpty {
                screen.put("no event matches “\(state.filter)” up to #\(state.cursor)", x: x + 2, y: y + 1, style: .dim)
            }
        }
        let inner = width - 4
        let positionWidth = grouped(state.lastPosition).count + 1
        for (index, envelope) in events.enumerated() {
            let isCursor = envelope.position == state.cursor
            let isFuture = envelope.position > state.cursor
            let time = envelope.metadata.timestamp.iso8601
            // Month-day and time where there is room, the time alone where there is not.
            let shortTime =
                inner >= 44
                ? String(time.dropFirst(5).prefix(11).map { $0 == "T" ? " " : $0 })
                : String(time.dropFirst(11).prefix(5))
            let text =
                (isCursor ? "▶" : " ")
                + CellWidth.fit("#" + grouped(envelope.position), positionWidth, rightAligned: true)
                + " " + shortTime + " " + CellWidth.fit(label(of: envelope.event), 8) + " " + summary(of: envelope)
            let rowStyle: Style = isCursor ? .selected : isFuture ? .dim : style(of: envelope.event)
            screen.put(CellWidth.fit(text, inner), x: x + 2, y: y + 1 + index, style: rowStyle, limit: inner)
        }
    }

    /// A short word for the event's type, for the timeline's narrow rows.
    static func label(of event: BankEvent) -> String {
        switch event {
        case .accountOpened: return "opened"
        case .moneyDeposited: return "deposit"
        case .moneyWithdrawn: return "withdraw"
        case .moneyTransferred: return "transfer"
        case .accountClosed: return "closed"
        }
    }

    private static func drawInspector(
        _ screen: inout ScreenBuffer, _ state: UIState, _ session: LedgerSession, x: Int, y: Int, width: Int,
        height: Int
    ) throws {
        screen.box(x: x, y: y, width: width, height: height, title: title("Inspector", .inspector, state))
        guard let envelope = try session.event(at: state.cursor) else { return }
        let metadata = envelope.metadata
        var lines: [(String, Style)] = [
            (
                "#\(grouped(metadata.position))  \(metadata.typeName) v\(metadata.schemaVersion)",
                style(of: envelope.event)
            ),
            ("time     \(metadata.timestamp.iso8601)", .normal),
            ("stream   \(metadata.stream) (version \(metadata.streamVersion))", .normal),
            ("command  \(metadata.commandID)", .normal),
        ]
        lines.append(("changed", .bold))
        for account in envelope.event.accounts {
            guard let change = session.history.change(of: account, at: metadata.position) else { continue }
            lines.append(("  \(account)  \(change.before.grouped) → \(change.after.grouped)", .normal))
        }
        if case .accountClosed = envelope.event { lines.append(("  \(metadata.stream) closed", .normal)) }
        if case .accountOpened = envelope.event { lines.append(("  \(metadata.stream) opened with 0.00", .normal)) }
        lines.append(("data     " + LogLine.dataJSON(envelope.event), .normal))
        // Long lines (the data) wrap onto the next rows.
        var wrapped: [(String, Style)] = []
        for (text, style) in lines {
            var rest = Substring(text)
            repeat {
                var piece = ""
                var cells = 0
                while let next = rest.first, cells + CellWidth.of(next) <= width - 4 {
                    piece.append(next)
                    cells += CellWidth.of(next)
                    rest.removeFirst()
                }
                if piece.isEmpty, let next = rest.first {
                    piece.append(next)
                    rest.removeFirst()
                }
                wrapped.append((piece, style))
                if !rest.isEmpty && width > 24 { rest = "         " + rest }
            } while !rest.isEmpty && wrapped.count < height - 2
        }
        for (index, (text, style)) in wrapped.prefix(height - 2).enumerated() {
            screen.put(text, x: x + 2, y: y + 1 + index, style: style, limit: width - 4)
        }
    }

    // MARK: - Overlays

    private static func drawWelcome(_ screen: inout ScreenBuffer, _ session: LedgerSession) {
        let lines = [
            "Welcome to Tally, an event-sourced bank ledger.", "",
            "This store is empty:", CellWidth.fit(session.path, 56), "",
            "  D   load a demo history (400 events over four weeks)", "  o   open an account", "  :   type any command",
            "  ?   help", "  q   quit",
        ]
        drawPanel(&screen, title: "Welcome", lines: lines, width: 62)
    }

    /// The help text.
    static let helpLines = [
        "Time travel", "  ← → or h l      one event back / forward", "  PgUp PgDn       a page of events",
        "  Home g / End G  first event / back to LIVE", "  Esc             back to LIVE (or clear the filter)",
        "  Space           replay from the cursor; + - change speed", "",
        "Panes", "  Tab Shift-Tab   move between accounts, timeline, inspector",
        "  ↑ ↓ or k j      move in the focused list",
        "  Enter           inspect the event at the cursor", "  /               filter the timeline by account or type",
        "",
        "Commands (a command in HISTORY returns to LIVE first)",
        "  o d w t c       open, deposit, withdraw, transfer, close",
        "  :               type one: deposit alice 12.50", "  D               load the demo into an empty store", "",
        "  Ctrl-L redraw · ? close this help · q quit",
    ]

    private static func drawHelp(_ screen: inout ScreenBuffer) {
        drawPanel(&screen, title: "Help — any key closes", lines: helpLines, width: 64)
    }

    private static func drawPanel(_ screen: inout ScreenBuffer, title: String, lines: [String], width panelWidth: Int) {
        let width = min(panelWidth, screen.width - 2)
        let height = min(lines.count + 2, screen.height - 2)
        let x = (screen.width - width) / 2
        let y = max(1, (screen.height - height) / 2)
        screen.fill(x: x, y: y, width: width, height: height, style: .normal)
        screen.box(x: x, y: y, width: width, height: height, title: title)
        for (index, line) in lines.prefix(height - 2).enumerated() {
            screen.put(
                line, x: x + 2, y: y + 1 + index, style: line.hasPrefix(" ") || line.isEmpty ? .normal : .bold,
                limit: width - 4)
        }
    }

    static func grouped(_ value: Int) -> String {
        Money.groupThousands(String(value))
    }
}
