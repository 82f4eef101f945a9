import Foundation
import TallyCLI
import TallyTUI

// A write past `ulimit -f` must fail with EFBIG and a clear message, not kill the process.
signal(SIGXFSZ, SIG_IGN)

// Arguments are checked for valid UTF-8 before anything else: Swift would silently repair them.
var arguments: [String] = []
for index in 1..<Int(CommandLine.argc) {
    guard let pointer = CommandLine.unsafeArgv[index], let argument = String(validatingCString: pointer) else {
        FileHandle.standardError.write(Data("tally: argument \(index) is not valid UTF-8\n".utf8))
        exit(TallyCommandLine.ExitStatus.usage.rawValue)
    }
    arguments.append(argument)
}

/// Standard output, buffered: `tally log` can print millions of lines.
final class BufferedOutput {
    private var pending = ""

    func line(_ text: String) {
        pending += text
        pending += "\n"
        if pending.utf8.count > 1 << 16 { flush() }
    }

    func flush() {
        FileHandle.standardOutput.write(Data(pending.utf8))
        pending.removeAll(keepingCapacity: true)
    }
}

let output = BufferedOutput()
let commandLine = TallyCommandLine(
    environment: ProcessInfo.processInfo.environment,
    write: output.line,
    writeError: { line in
        output.flush()
        FileHandle.standardError.write(Data((line + "\n").utf8))
    })
if let path = commandLine.interactiveStorePath(arguments) {
    // No command: the interactive ledger, which needs a terminal on both ends.
    guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
        FileHandle.standardError.write(
            Data("tally: the interactive ledger needs a terminal; for scripts use the commands (tally --help)\n".utf8))
        exit(TallyCommandLine.ExitStatus.usage.rawValue)
    }
    exit(
        TallyTUIMain.run(
            path: path, environment: ProcessInfo.processInfo.environment,
            lockTimeoutMilliseconds: commandLine.lockTimeoutMilliseconds))
}
let status = commandLine.run(arguments)
output.flush()
exit(status.rawValue)
