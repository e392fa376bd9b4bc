import Foundation

/// Dispatches `trigger-email COMMAND ...` and turns failures into a message and an exit status.
enum TriggerEmailCommand {
    struct Command: Sendable {
        var name: String
        var summary: String
        var usage: String
        var valueOptions: Set<String>
        var flagOptions: Set<String>
        var run: @Sendable (Arguments) async throws -> Int32
    }

    static let commands: [Command] = [
        ServeCommand.command(name: "serve", summary: "Run the delivery processor until interrupted (Ctrl-C or SIGTERM)."),
        ServeCommand.command(name: "worker", summary: "Run the delivery processor alone until interrupted."),
        AddCommand.command,
        GetCommand.command,
        ListCommand.command,
        RetryCommand.command,
        SendCommand.command,
        CheckSMTPCommand.command,
        TemplatesCommand.command,
    ]

    static func run(_ arguments: [String]) async -> Int32 {
        guard let name = arguments.first, name != "--help", name != "-h", name != "help" else {
            if arguments.count > 1, let command = commands.first(where: { $0.name == arguments[1] }) {
                print(help(for: command))
            } else if arguments.isEmpty {
                // No command is a usage mistake: the help goes to standard error, with status 2.
                FileHandle.standardError.write(Data((generalHelp + "\n").utf8))
                return 2
            } else {
                print(generalHelp)
            }
            return 0
        }

        guard let command = commands.first(where: { $0.name == name }) else {
            printError("Unknown command \"\(name)\". Run trigger-email --help to list the commands.")
            return 2
        }

        let rest = Array(arguments.dropFirst())
        if rest.contains("--help") || rest.contains("-h") {
            print(help(for: command))
            return 0
        }

        do {
            let parsed = try Arguments(
                rest, valueOptions: command.valueOptions.union(Settings.optionNames), flagOptions: command.flagOptions)
            return try await command.run(parsed)
        } catch let error as UsageError {
            printError("\(error) Run trigger-email \(command.name) --help for its usage.")
            return 2
        } catch {
            printError("\(error)")
            return 1
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("trigger-email: error: \(message)\n".utf8))
    }

    static var generalHelp: String {
        var lines = [
            "trigger-email: turns JSON mail documents into email sent over SMTP, and tracks each delivery.",
            "",
            "Usage: trigger-email COMMAND [OPTIONS]",
            "",
            "Commands:",
        ]
        for command in commands {
            lines.append("  " + command.name.padding(toLength: 11, withPad: " ", startingAt: 0) + command.summary)
        }
        lines += ["", "Run trigger-email COMMAND --help for a command's options.", "", Settings.helpText]
        return lines.joined(separator: "\n")
    }

    static func help(for command: Command) -> String {
        "Usage: \(command.usage)\n\n\(command.summary)\n\n\(Settings.helpText)"
    }
}
