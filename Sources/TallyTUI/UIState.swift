/// The panes that take the keyboard focus, in Tab order.
public enum Pane: Int, CaseIterable, Sendable {
    case accounts, timeline, inspector
}

/// Whether the screen follows the store or stands at a chosen position.
public enum Mode: Equatable, Sendable {
    /// Follows every new event.
    case live
    /// Stands at ``UIState/cursor``.
    case history
}

/// A one-line message in the status line.
public struct StatusMessage: Equatable, Sendable {
    public enum Kind: Sendable { case info, success, error }
    public var text: String
    public var kind: Kind

    public init(_ text: String, _ kind: Kind = .info) {
        self.text = text
        self.kind = kind
    }
}

/// What the user is typing into, if anything.
public enum Input: Equatable, Sendable {
    /// A command at the `:` prompt (`deposit alice 12.50`).
    case command(String)
    /// A timeline filter (account id or event type).
    case filter(String)

    var text: String {
        switch self {
        case .command(let text), .filter(let text): return text
        }
    }
}

/// Everything the screen shows that is not the ledger itself. Changed only by
/// ``UIState/reduce(into:_:)``.
public struct UIState: Equatable, Sendable {
    public var mode: Mode = .live
    /// The position every pane shows.
    public var cursor = 0
    /// The store's last position.
    public var lastPosition = 0
    public var focus: Pane = .timeline
    /// The highlighted row of the accounts table.
    public var selectedAccount = 0
    public var accountCount = 0
    /// Events per page of the timeline (set from the layout).
    public var pageSize = 10
    public var showHelp = false
    public var input: Input?
    /// The applied timeline filter; empty shows everything.
    public var filter = ""
    public var status: StatusMessage?
    public var isPlaying = false
    /// A command was submitted in HISTORY: its answer says that the screen went back to LIVE.
    var commandReturnedToLive = false
    public var speedIndex = 3
    /// Fractional events owed to playback.
    var playbackCredit = 0.0
    public var shouldQuit = false

    /// Playback speeds, in events per second.
    public static let speeds: [Double] = [1, 2, 5, 10, 25, 50, 100, 250, 1000]

    public init() {}

    /// The playback speed in events per second.
    public var speed: Double { UIState.speeds[speedIndex] }

    /// What a user did, named after the doing.
    public enum Action: Equatable, Sendable {
        case stepBackPressed, stepForwardPressed, pageBackPressed, pageForwardPressed, firstPressed, livePressed
        case listUpPressed, listDownPressed, nextPanePressed, previousPanePressed
        case filterPressed, inspectPressed, promptPressed
        case commandKeyPressed(String)
        case loadDemoPressed
        case helpPressed, redrawPressed, quitPressed, playPressed, fasterPressed, slowerPressed
        case typed(Character)
        case backspacePressed, inputSubmitted, inputCancelled
        /// Time passed (for playback).
        case ticked(seconds: Double)
        /// The store now ends at this position (a commit here or in another process).
        case storeAdvanced(to: Int)
        /// The accounts table now has this many rows.
        case accountsCounted(Int)
        /// A command finished with this message.
        case commandFinished(StatusMessage)
    }

    /// Work the reducer asks the app to do.
    public enum Effect: Equatable, Sendable {
        case run(String)
        case loadDemo
        case redraw
    }

    /// The action a key means in `state` (nil: the key does nothing here).
    public static func action(for key: Key, in state: UIState) -> Action? {
        if key == .control("c") { return .quitPressed }
        if state.input != nil {
            switch key {
            case .enter: return .inputSubmitted
            case .escape: return .inputCancelled
            case .backspace, .delete: return .backspacePressed
            case .character(let character): return .typed(character)
            default: return nil
            }
        }
        if state.showHelp {
            switch key {
            case .character("q"): return .quitPressed
            default: return .helpPressed  // any key closes help
            }
        }
        switch key {
        case .left, .character("h"): return .stepBackPressed
        case .right, .character("l"): return .stepForwardPressed
        case .pageUp: return .pageBackPressed
        case .pageDown: return .pageForwardPressed
        case .home, .character("g"): return .firstPressed
        case .end, .character("G"), .escape: return .livePressed
        case .up, .character("k"): return .listUpPressed
        case .down, .character("j"): return .listDownPressed
        case .tab: return .nextPanePressed
        case .backTab: return .previousPanePressed
        case .character("/"): return .filterPressed
        case .enter: return .inspectPressed
        case .character(":"): return .promptPressed
        case .character("o"): return .commandKeyPressed("open")
        case .character("d"): return .commandKeyPressed("deposit")
        case .character("w"): return .commandKeyPressed("withdraw")
        case .character("t"): return .commandKeyPressed("transfer")
        case .character("c"): return .commandKeyPressed("close")
        case .character("D"): return .loadDemoPressed
        case .character("?"): return .helpPressed
        case .control("l"): return .redrawPressed
        case .character("q"): return .quitPressed
        case .character(" "): return .playPressed
        case .character("+"), .character("="): return .fasterPressed
        case .character("-"): return .slowerPressed
        default: return nil
        }
    }

    /// Applies `action`; returns the work the app must do.
    public static func reduce(into state: inout UIState, _ action: Action) -> [Effect] {
        switch action {
        case .stepBackPressed: state.move(to: state.cursor - 1)
        case .stepForwardPressed: state.move(to: state.cursor + 1)
        case .pageBackPressed: state.move(to: state.cursor - state.pageSize)
        case .pageForwardPressed: state.move(to: state.cursor + state.pageSize)
        case .firstPressed: state.move(to: min(1, state.lastPosition))
        case .livePressed:
            if state.mode == .history || state.isPlaying {
                state.returnToLive()
                state.status = StatusMessage("back to LIVE")
            } else if state.filter != "" {
                state.filter = ""
                state.status = StatusMessage("filter cleared")
            }
        case .listUpPressed:
            if state.focus == .accounts {
                state.selectedAccount = max(0, state.selectedAccount - 1)
            } else {
                state.move(to: state.cursor - 1)
            }
        case .listDownPressed:
            if state.focus == .accounts {
                state.selectedAccount = min(max(0, state.accountCount - 1), state.selectedAccount + 1)
            } else {
                state.move(to: state.cursor + 1)
            }
        case .nextPanePressed:
            state.focus = Pane(rawValue: (state.focus.rawValue + 1) % Pane.allCases.count) ?? .timeline
        case .previousPanePressed:
            state.focus =
                Pane(rawValue: (state.focus.rawValue + Pane.allCases.count - 1) % Pane.allCases.count) ?? .timeline
        case .filterPressed: state.input = .filter(state.filter)
        case .inspectPressed: state.focus = .inspector
        case .promptPressed: state.input = .command("")
        case .commandKeyPressed(let verb): state.input = .command(verb + " ")
        case .loadDemoPressed:
            guard state.lastPosition == 0 else {
                state.status = StatusMessage(
                    "the demo loads into an empty store only; start tally with --store NEW-PATH", .error)
                return []
            }
            state.status = StatusMessage("loading the demo history…")
            return [.loadDemo]
        case .helpPressed: state.showHelp.toggle()
        case .redrawPressed: return [.redraw]
        case .quitPressed: state.shouldQuit = true
        case .playPressed:
            if state.isPlaying {
                state.isPlaying = false
                state.status = StatusMessage("paused at #\(state.cursor)")
            } else if state.lastPosition > 0 {
                if state.mode == .live || state.cursor >= state.lastPosition { state.cursor = 0 }
                state.mode = .history
                state.isPlaying = true
                state.playbackCredit = 0
                state.status = StatusMessage("playing at \(Int(state.speed)) events/s (+/- to change, Space to pause)")
            }
        case .fasterPressed, .slowerPressed:
            let step = action == .fasterPressed ? 1 : -1
            state.speedIndex = max(0, min(UIState.speeds.count - 1, state.speedIndex + step))
            state.status = StatusMessage("playback speed \(Int(state.speed)) events/s")
        case .typed(let character):
            guard let input = state.input, input.text.count < 200 else { return [] }
            switch input {
            case .command(let text): state.input = .command(text + String(character))
            case .filter(let text): state.input = .filter(text + String(character))
            }
        case .backspacePressed:
            switch state.input {
            case .command(let text): state.input = .command(String(text.dropLast()))
            case .filter(let text): state.input = .filter(String(text.dropLast()))
            case nil: break
            }
        case .inputCancelled: state.input = nil
        case .inputSubmitted:
            guard let input = state.input else { return [] }
            state.input = nil
            switch input {
            case .filter(let text):
                state.filter = text.trimmingSpaces
                state.status = StatusMessage(
                    state.filter.isEmpty ? "filter cleared" : "filter: \(state.filter) (Esc clears)")
            case .command(let text):
                let command = text.trimmingSpaces
                guard !command.isEmpty else { return [] }
                if state.mode == .history {
                    state.returnToLive()
                    state.status = StatusMessage("returned to LIVE to run the command")
                    state.commandReturnedToLive = true
                }
                return [.run(command)]
            }
        case .ticked(let seconds):
            guard state.isPlaying else { return [] }
            state.playbackCredit += seconds * state.speed
            let steps = Int(state.playbackCredit)
            state.playbackCredit -= Double(steps)
            if state.cursor + steps >= state.lastPosition {
                state.returnToLive()
                state.status = StatusMessage("playback reached the present: LIVE")
            } else {
                state.cursor += steps
            }
        case .storeAdvanced(let last):
            state.lastPosition = last
            if state.mode == .live { state.cursor = last }
            state.cursor = min(state.cursor, last)
        case .accountsCounted(let count):
            state.accountCount = count
            state.selectedAccount = min(state.selectedAccount, max(0, count - 1))
        case .commandFinished(let message):
            let prefix = state.commandReturnedToLive ? "returned to LIVE; " : ""
            state.commandReturnedToLive = false
            state.status = StatusMessage(prefix + message.text, message.kind)
        }
        return []
    }

    private mutating func move(to position: Int) {
        guard lastPosition > 0 else { return }
        isPlaying = false
        cursor = max(1, min(lastPosition, position))
        mode = .history
    }

    private mutating func returnToLive() {
        mode = .live
        isPlaying = false
        cursor = lastPosition
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}
