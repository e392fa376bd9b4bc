import Foundation

/// Writes each event as one line to standard error:
/// `2026-12-04T19:21:41.123Z info processor: delivered mail.id=abc smtp.reply="250 OK"`.
///
/// Metadata keys are sorted so that lines of the same event look alike. A value with spaces,
/// quotes or line breaks is quoted and escaped, so one event always stays on one line.
public struct StreamLogHandler: LogHandler {
    private let lock = NSLock()

    public init() {}

    public func write(_ record: LogRecord) {
        var line = "\(Self.formatTime(record.time)) \(record.level) \(record.label): \(Self.escapingControls(record.message))"
        for key in record.metadata.keys.sorted() {
            line += " \(key)=\(Self.quoteIfNeeded(record.metadata[key]!))"
        }
        line += "\n"

        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Quotes a value that has spaces, quotes, `=` or control characters. Control characters
    /// are escaped, so text from a document can neither break the line nor send terminal
    /// escape sequences.
    static func quoteIfNeeded(_ value: String) -> String {
        let needsQuotes = value.isEmpty
            || value.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" || isControl($0) }
        guard needsQuotes else { return value }

        var quoted = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            case _ where isControl(scalar): quoted += "\\u{\(String(scalar.value, radix: 16))}"
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0)
    }

    static func escapingControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var escaped = ""
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                escaped += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    static func formatTime(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(milliseconds % 1000))
    }
}

/// Keeps every event in memory, for tests that check what was logged.
public final class InMemoryLogHandler: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var storedRecords: [LogRecord] = []

    public init() {}

    public func write(_ record: LogRecord) {
        lock.lock()
        defer { lock.unlock() }
        storedRecords.append(record)
    }

    public var records: [LogRecord] {
        lock.lock()
        defer { lock.unlock() }
        return storedRecords
    }
}

/// Drops every event.
public struct SilentLogHandler: LogHandler {
    public init() {}
    public func write(_ record: LogRecord) {}
}
