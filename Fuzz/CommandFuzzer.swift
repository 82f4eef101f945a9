// libFuzzer target: the command-line parser and the amount, id and name rules on hostile
// input. Build and run with Fuzz/run.sh commands [seconds].
import Bank
import Glibc
import TallyCLI

let store = "/dev/shm/tally-fuzz-commands-\(getpid()).tally"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommands(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? Money.parseAmount(text)
    _ = try? AccountID(parsing: text)
    _ = try? OwnerName(parsing: text)
    _ = TextSafety.escaped(text)

    // The whole command line, arguments split at NUL bytes. `demo` is left out: it is meant
    // to be slow for large --events.
    let arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
        String(decoding: $0, as: UTF8.self)
    }
    guard !arguments.contains("demo") else { return 0 }
    let commandLine = TallyCommandLine(
        environment: ["TALLY_STORE": store, "TALLY_LOCK_TIMEOUT_MS": "10"], write: { _ in },
        writeError: { line in
            // Every error is one line with nothing unprintable in it.
            precondition(!line.contains("\n"), "an error message spans lines")
            precondition(!line.unicodeScalars.contains { $0.value == 0x1B }, "an escape reached the terminal")
        })
    _ = commandLine.run(arguments)
    return 0
}
