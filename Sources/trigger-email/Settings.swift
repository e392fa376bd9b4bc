import DocumentStore
import Foundation
import Logging
import PostgresStore
import SQLiteStore
import TriggerEmail

/// Configuration flags every command accepts: one per environment variable, named in lower case
/// with dashes (`SMTP_CONNECTION_URI` is `--smtp-connection-uri`).
enum Settings {
    static let optionNames: Set<String> = Set(Configuration.variables.map { flagName(for: $0.name) })

    static func flagName(for variable: String) -> String {
        variable.lowercased().replacingOccurrences(of: "_", with: "-")
    }

    /// Loads the configuration from the environment and the flags given in `arguments`; only
    /// `serve` and `worker` need the SMTP settings.
    static func configuration(_ arguments: Arguments, readsSMTPSettings: Bool = false) throws -> Configuration {
        var flags: [String: String] = [:]
        for (name, _) in Configuration.variables {
            if let value = arguments.value(flagName(for: name)) {
                flags[name] = value
            }
        }
        return try Configuration.load(
            environment: ProcessInfo.processInfo.environment, flags: flags, readsSMTPSettings: readsSMTPSettings)
    }

    static func logger(_ configuration: Configuration, label: String) -> Logger {
        Logger(label: label, level: Logger.Level(name: configuration.logLevel) ?? .info, handler: StreamLogHandler())
    }

    /// Opens the configured store. Commands that only read pass `create: false`, so that a
    /// mistyped `DATABASE_URL` fails instead of showing an empty new database.
    static func openStore(_ configuration: Configuration, create: Bool = true) async throws -> any DocumentStore {
        switch configuration.databaseURL {
        case .sqlite(let path):
            return try await SQLiteStore.open(path: path, create: create, logger: logger(configuration, label: "trigger-email.store"))
        case .postgres(let url):
            return try await PostgresStore.open(url: url, logger: logger(configuration, label: "trigger-email.store"))
        }
    }

    /// The help lines for the configuration flags.
    static var helpText: String {
        var lines = ["Configuration (each flag overrides its environment variable):"]
        for (name, meaning) in Configuration.variables {
            let flag = "  --\(flagName(for: name)) VALUE"
            let column = flag.count < 32 ? flag.padding(toLength: 32, withPad: " ", startingAt: 0) : flag + "  "
            lines.append(column + "\(name): \(meaning)")
        }
        return lines.joined(separator: "\n")
    }
}
