import EventSourcing
import Foundation
import Testing

/// Runs the built `tally` binary as a real process.
struct Tally {
    struct Result {
        var status: Int32
        var output: String
        var error: String
        var lines: [String] { output.split(separator: "\n").map(String.init) }
    }

    /// The `tally` executable beside this test bundle.
    static let executable: String = {
        let testBinary =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: testBinary).deletingLastPathComponent()
        // The bundle may be a directory (xctest) or a file.
        if directory.lastPathComponent.hasSuffix(".xctest") { directory.deleteLastPathComponent() }
        return directory.appendingPathComponent("tally").path
    }()

    let directory = TemporaryDirectory()
    var store: String { directory.file() }

    /// Runs `tally --store <this store> arguments…`.
    @discardableResult
    func callAsFunction(_ arguments: String..., environment: [String: String] = [:]) throws -> Result {
        try Tally.run(["--store", store] + arguments, environment: environment)
    }

    static func run(
        _ arguments: [String], environment extra: [String: String] = [:], executable: String = Tally.executable
    ) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: Tally.executable) else {
            throw CocoaError(
                .fileNoSuchFile, userInfo: [NSFilePathErrorKey: "tally binary not built at \(Tally.executable)"])
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "TALLY_STORE")
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // Read both pipes to the end before waiting, so a large output cannot block the child.
        let group = DispatchGroup()
        nonisolated(unsafe) var errorData = Data()
        group.enter()
        DispatchQueue.global().async {
            errorData = error.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
            error: String(decoding: errorData, as: UTF8.self))
    }

    /// The store's bytes (empty when it does not exist).
    var bytes: [UInt8] { (try? Array(Data(contentsOf: URL(fileURLWithPath: store)))) ?? [] }

    /// Writes a 20-event demo and flips one bit of its middle byte; returns the damaged bytes.
    @discardableResult
    func makeCorruptDemo(flipping bit: UInt8) throws -> [UInt8] {
        try self("demo", "--events", "20")
        var bytes = self.bytes
        bytes[bytes.count / 2] ^= bit
        try Data(bytes).write(to: URL(fileURLWithPath: store))
        return bytes
    }

    /// `tally log --json`, parsed.
    func log() throws -> [[String: Any]] {
        let result = try self("log", "--json")
        #expect(result.status == 0)
        return try result.lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }
}

/// A fresh directory under the system's temporary directory, removed when the test ends.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "tally-e2e-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String = "ledger.tally") -> String { path + "/" + name }
}

func json(_ text: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
}
