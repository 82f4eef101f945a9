import Testing

@testable import TallyTUI

struct ReducerTests {
    func state(last: Int = 100) -> UIState {
        var state = UIState()
        _ = UIState.reduce(into: &state, .storeAdvanced(to: last))
        return state
    }

    func press(_ keys: [Key], _ state: inout UIState) -> [UIState.Effect] {
        var effects: [UIState.Effect] = []
        for key in keys {
            if let action = UIState.action(for: key, in: state) { effects += UIState.reduce(into: &state, action) }
        }
        return effects
    }

    @Test func liveFollowsTheStore() {
        var state = state()
        #expect(state.mode == .live && state.cursor == 100)
        _ = UIState.reduce(into: &state, .storeAdvanced(to: 105))
        #expect(state.cursor == 105)
    }

    @Test func steppingBackEntersHistoryWhichStaysPut() {
        var state = state()
        _ = press([.left, .character("h"), .left], &state)
        #expect(state.mode == .history && state.cursor == 97)
        _ = UIState.reduce(into: &state, .storeAdvanced(to: 120))
        #expect(state.cursor == 97 && state.lastPosition == 120)
        _ = press([.right], &state)
        #expect(state.cursor == 98)
    }

    @Test(arguments: [Key.escape, .end, .character("G")])
    func escEndAndGReturnToLive(key: Key) {
        var state = state()
        _ = press([.pageUp, .pageUp], &state)
        #expect(state.cursor == 80)
        _ = press([key], &state)
        #expect(state.mode == .live && state.cursor == 100)
    }

    @Test func movesClampToTheLog() {
        var state = state(last: 5)
        _ = press([.home], &state)
        #expect(state.cursor == 1)
        _ = press([.left, .left, .pageUp], &state)
        #expect(state.cursor == 1)
        _ = press([.pageDown, .pageDown, .right], &state)
        #expect(state.cursor == 5 && state.mode == .history)
    }

    @Test func anEmptyStoreIgnoresTimeTravel() {
        var state = state(last: 0)
        _ = press([.left, .home, .pageUp, .character(" ")], &state)
        #expect(state.mode == .live && state.cursor == 0 && !state.isPlaying)
    }

    @Test func aCommandInHistoryReturnsToLiveFirstAndSaysSo() {
        var state = state()
        _ = press([.left, .left, .character("d")], &state)
        #expect(state.input == .command("deposit "))
        let effects = press("alice 12.50".map { Key.character($0) } + [.enter], &state)
        #expect(effects == [.run("deposit alice 12.50")])
        #expect(state.mode == .live && state.cursor == 100)
        #expect(state.status?.text == "returned to LIVE to run the command")
        #expect(state.input == nil)
    }

    @Test func typingEditsAndEscCancels() {
        var state = state()
        _ = press([.character(":"), .character("q"), .character("x"), .backspace], &state)
        #expect(state.input == .command("q"))
        #expect(!state.shouldQuit)  // q while typing is text, not quit
        _ = press([.escape], &state)
        #expect(state.input == nil && state.mode == .live)
    }

    @Test func filterIsAppliedOnEnterAndClearedByEsc() {
        var state = state()
        _ = press([.character("/")] + "alice".map { Key.character($0) } + [.enter], &state)
        #expect(state.filter == "alice")
        _ = press([.escape], &state)
        #expect(state.filter == "")
    }

    @Test func helpOpensOnQuestionMarkAndAnyKeyClosesIt() {
        var state = state()
        _ = press([.character("?")], &state)
        #expect(state.showHelp)
        _ = press([.left], &state)
        #expect(!state.showHelp && state.cursor == 100)  // the key closed help and did nothing else
    }

    @Test func playbackAdvancesWithTimeAndEndsInLive() {
        var state = state(last: 50)
        _ = press([.character(" ")], &state)
        #expect(state.isPlaying && state.mode == .history && state.cursor == 0)
        _ = UIState.reduce(into: &state, .ticked(seconds: 1))  // 10 events/s
        #expect(state.cursor == 10)
        _ = press([.character("+")], &state)
        #expect(state.speed == 25)
        _ = UIState.reduce(into: &state, .ticked(seconds: 10))
        #expect(!state.isPlaying && state.mode == .live && state.cursor == 50)
    }

    @Test func quitFromAnywhere() {
        for keys in [[Key.character("q")], [.character(":"), .control("c")], [.character("?"), .character("q")]] {
            var state = state()
            _ = press(keys, &state)
            #expect(state.shouldQuit, "\(keys)")
        }
    }

    @Test func tabCyclesThePanesAndListsMoveInTheFocusedOne() {
        var state = state()
        _ = UIState.reduce(into: &state, .accountsCounted(3))
        _ = press([.tab, .tab], &state)
        #expect(state.focus == .accounts)
        _ = press([.down, .down, .down, .down], &state)
        #expect(state.selectedAccount == 2 && state.cursor == 100)
        _ = press([.backTab], &state)
        #expect(state.focus == .inspector)
    }

    @Test func theDemoLoadsOnlyIntoAnEmptyStore() {
        var empty = state(last: 0)
        #expect(press([.character("D")], &empty) == [.loadDemo])
        var full = state()
        #expect(press([.character("D")], &full) == [])
        #expect(full.status?.kind == .error)
    }
}

struct ScreenBufferTests {
    @Test func wideCharactersTakeTwoCellsAndClipWhole() {
        var screen = ScreenBuffer(width: 6, height: 1)
        #expect(screen.put("佐藤花", x: 0, y: 0) == 6)
        #expect(screen.text == "佐藤花")
        var narrow = ScreenBuffer(width: 5, height: 1)
        #expect(narrow.put("佐藤花", x: 0, y: 0) == 4)  // no half character at the edge
    }

    @Test func overwritingHalfAWideCharacterBlanksTheOtherHalf() {
        var screen = ScreenBuffer(width: 6, height: 1)
        screen.put("佐藤花", x: 0, y: 0)
        screen.put("|", x: 3, y: 0)
        #expect(screen.text == "佐 |花")
    }

    @Test func controlCharactersAndEscapesNeverReachTheScreen() {
        var screen = ScreenBuffer(width: 60, height: 1)
        screen.put("evil\u{1B}[2J\u{07}\u{202E}name", x: 0, y: 0)
        #expect(screen.text == "evil\\e[2J\\u{7}\\u{202E}name")
        #expect(!screen.cells.contains { $0.text.unicodeScalars.contains { $0.value < 0x20 || $0 == "\u{202E}" } })
    }

    @Test func drawingOffTheEdgesIsClippedNotACrash() {
        var screen = ScreenBuffer(width: 3, height: 2)
        screen.put("abcdef", x: -2, y: 0)
        screen.put("x", x: 5, y: 0)
        screen.put("y", x: 0, y: 7)
        screen.box(x: -1, y: -1, width: 10, height: 10)
        screen.fill(x: -5, y: -5, width: 100, height: 100, style: .dim)
        #expect(screen.cells.count == 6)
    }
}
