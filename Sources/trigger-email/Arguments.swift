/// The command line after the command name: options (`--name value`, `--name=value`, flags)
/// and positional arguments. Each command declares what it takes, so a typo fails loudly.
struct Arguments: Sendable {
    private(set) var options: [String: [String]] = [:]
    private(set) var flags: Set<String> = []
    private(set) var positional: [String] = []

    /// Parses `arguments`. `valueOptions` take a value, `flagOptions` do not; anything else
    /// starting with `--` is an error.
    init(_ arguments: [String], valueOptions: Set<String>, flagOptions: Set<String>) throws(UsageError) {
        var index = 0
        var onlyPositional = false

        while index < arguments.count {
            let argument = arguments[index]
            index += 1

            if onlyPositional || !argument.hasPrefix("--") || argument == "-" {
                positional.append(argument)
                continue
            }
            if argument == "--" {
                onlyPositional = true
                continue
            }

            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }

            if flagOptions.contains(name) {
                guard inlineValue == nil else { throw UsageError("--\(name) takes no value.") }
                flags.insert(name)
            } else if valueOptions.contains(name) {
                if let inlineValue {
                    options[name, default: []].append(inlineValue)
                } else {
                    guard index < arguments.count else { throw UsageError("--\(name) needs a value.") }
                    options[name, default: []].append(arguments[index])
                    index += 1
                }
            } else {
                throw UsageError("Unknown option --\(name).")
            }
        }
    }

    func value(_ name: String) -> String? {
        options[name]?.last
    }

    func values(_ name: String) -> [String] {
        options[name] ?? []
    }

    func has(_ flag: String) -> Bool {
        flags.contains(flag)
    }
}

/// A mistake on the command line; printed with a pointer to `--help`, exit status 2.
struct UsageError: Error, CustomStringConvertible {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}

/// A failure while running a command that is not the user's typing; exit status 1.
struct CommandError: Error, CustomStringConvertible {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}
