import Foundation

/// A structured logger shaped like swift-log's: a constant message per event, the data in
/// dotted metadata keys (`mail.id`, `smtp.reply`), and a handler that decides where lines go.
///
/// Loggers are values passed in by the caller; a module never builds its own. Secrets must not
/// be put in metadata: handlers write what they are given.
public struct Logger: Sendable {
    public enum Level: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
        case trace, debug, info, notice, warning, error, critical

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }

        public var description: String {
            switch self {
            case .trace: "trace"
            case .debug: "debug"
            case .info: "info"
            case .notice: "notice"
            case .warning: "warning"
            case .error: "error"
            case .critical: "critical"
            }
        }

        /// Parses a level name as written in `LOG_LEVEL` (`debug`, `info`, ...).
        public init?(name: String) {
            guard let level = Level.allCases.first(where: { $0.description == name.lowercased() }) else {
                return nil
            }
            self = level
        }
    }

    public typealias Metadata = [String: String]

    /// The component this logger speaks for, written on every line (`processor`, `smtp`).
    public var label: String
    /// Events below this level are dropped before any formatting happens.
    public var logLevel: Level
    /// Metadata added to every event, such as the worker's ID.
    public var metadata: Metadata
    public let handler: any LogHandler

    public init(label: String, level: Level = .info, handler: any LogHandler, metadata: Metadata = [:]) {
        self.label = label
        self.logLevel = level
        self.handler = handler
        self.metadata = metadata
    }

    /// Returns a copy that writes under another label, keeping level, handler and metadata.
    public func labeled(_ label: String) -> Logger {
        var copy = self
        copy.label = label
        return copy
    }

    public subscript(metadataKey key: String) -> String? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(_ level: Level, _ message: @autoclosure () -> String, _ metadata: @autoclosure () -> Metadata = [:]) {
        guard level >= logLevel else { return }

        var merged = self.metadata
        merged.merge(metadata()) { _, new in new }
        handler.write(LogRecord(level: level, label: label, message: message(), metadata: merged, time: Date()))
    }

    public func trace(_ message: @autoclosure () -> String, _ metadata: @autoclosure () -> Metadata = [:]) {
        log(.trace, message(), metadata())
    }

    public func debug(_ message: @autoclosure () -> String, _ metadata: @autoclosure () -> Metadata = [:]) {
        log(.debug, message(), metadata())
    }

    public func info(_ message: @autoclosure () -> String, _ metadata: @autoclosure () -> Metadata = [:]) {
        log(.info, message(), metadata())
    }

    public func notice(_ message: @autoclosure () -> String, _ metadata: @autoclosure () -> Metadata = [:]) {
        log(.notice, message(), metadata())
    }

    public func warning(_ message: @autoclosure () -> String, _ metadata: @autoclosure () -> Metadata = [:]) {
        log(.warning, message(), metadata())
    }

    public func error(_ message: @autoclosure () -> String, _ metadata: @autoclosure () -> Metadata = [:]) {
        log(.error, message(), metadata())
    }
}

/// One log event as handed to a `LogHandler`.
public struct LogRecord: Sendable {
    public var level: Logger.Level
    public var label: String
    public var message: String
    public var metadata: Logger.Metadata
    public var time: Date
}

/// A destination for log events. Implementations must be safe to call from any thread.
public protocol LogHandler: Sendable {
    func write(_ record: LogRecord)
}
