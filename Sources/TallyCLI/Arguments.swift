import Bank

/// A command line split into its subcommand, positional arguments and options.
struct Arguments {
    /// Options that take a value.
    static let valueOptions: Set<String> = [
        "--store", "--owner", "--at", "--from", "--limit", "--seed", "--events", "--command-id",
    ]
    /// Options that stand alone.
    static let flagOptions: Set<String> = ["--json", "--help"]

    var subcommand: String?
    var positionals: [String] = []
    var values: [String: String] = [:]
    var flags: Set<String> = []

    /// Splits `arguments` (without the program name). `--store` may come anywhere.
    init(_ arguments: [String]) throws(UsageError) {
        var index = 0
        while index < arguments.count {
            var argument = arguments[index]
            index += 1
            if argument == "-h" { argument = "--help" }
            if argument.hasPrefix("--") {
                var value: String?
                if let equals = argument.firstIndex(of: "=") {
                    value = String(argument[argument.index(after: equals)...])
                    argument = String(argument[..<equals])
                }
                if Arguments.flagOptions.contains(argument) {
                    guard value == nil else { throw UsageError("\(argument) takes no value") }
                    flags.insert(argument)
                } else if Arguments.valueOptions.contains(argument) {
                    if value == nil {
                        guard index < arguments.count else { throw UsageError("\(argument) needs a value") }
                        value = arguments[index]
                        index += 1
                    }
                    guard values[argument] == nil else { throw UsageError("\(argument) is given twice") }
                    values[argument] = value
                } else {
                    throw UsageError("unknown option \(InvalidInput.quoted(argument))")
                }
            } else if subcommand == nil {
                subcommand = argument
            } else {
                positionals.append(argument)
            }
        }
    }

    /// Checks that only `allowed` options were given and exactly `count` positionals.
    func expect(_ names: [String], options allowed: Set<String>) throws(UsageError) -> [String] {
        let command = subcommand ?? "tally"
        for option in values.keys.sorted() where option != "--store" && !allowed.contains(option) {
            throw UsageError("\(command) does not take \(option)")
        }
        for flag in flags.sorted() where !allowed.contains(flag) {
            throw UsageError("\(command) does not take \(flag)")
        }
        guard positionals.count == names.count else {
            let shape = ([command] + names.map { $0.uppercased() }).joined(separator: " ")
            if positionals.count < names.count {
                throw UsageError(
                    "\(command) is missing \(names[positionals.count].uppercased()); usage: tally \(shape)")
            }
            throw UsageError(
                "\(command) takes \(names.count) argument\(names.count == 1 ? "" : "s"), got \(positionals.count); usage: tally \(shape)"
            )
        }
        return positionals
    }

    /// The non-negative integer value of `option`, if given.
    func integer(_ option: String, minimum: Int = 0) throws(UsageError) -> Int? {
        guard let text = values[option] else { return nil }
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let value = Int(text), value >= minimum
        else {
            throw UsageError("\(option) needs a whole number of at least \(minimum), got \(InvalidInput.quoted(text))")
        }
        return value
    }
}

/// Bad usage or bad input: exit status 2.
struct UsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
