import Foundation

/// A moment in UTC with millisecond precision, written as RFC 3339 text such as
/// `2026-12-04T19:21:41.123Z`.
///
/// That text has a fixed width, so timestamps compare correctly as strings too. The stores rely
/// on it to find expired leases with a string comparison inside SQL.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var millisecondsSince1970: Int64

    public init(millisecondsSince1970: Int64) {
        self.millisecondsSince1970 = millisecondsSince1970
    }

    public init(_ date: Date) {
        self.millisecondsSince1970 = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    public static func now() -> Timestamp {
        Timestamp(Date())
    }

    public var date: Date {
        Date(timeIntervalSince1970: Double(millisecondsSince1970) / 1000)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSince1970 < rhs.millisecondsSince1970
    }

    public func adding(milliseconds: Int64) -> Timestamp {
        Timestamp(millisecondsSince1970: millisecondsSince1970 + milliseconds)
    }

    public func adding(_ duration: Duration) -> Timestamp {
        let (seconds, attoseconds) = duration.components
        return adding(milliseconds: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    /// The RFC 3339 text, always in UTC with three fraction digits.
    public var description: String {
        let seconds = floorDivide(millisecondsSince1970, 1000)
        let days = floorDivide(seconds, 86_400)
        let date = civilDate(daysSince1970: days)
        guard (0...9999).contains(date.year) else { return formattedByGmtime() }

        // Every stored document gets several timestamps per delivery, so the 24 characters are
        // written straight into the string's storage instead of being appended piece by piece.
        let secondOfDay = Int(seconds - days * 86_400)
        let fields: [(value: Int, width: Int, separator: UInt8)] = [
            (date.year, 4, UInt8(ascii: "-")), (date.month, 2, UInt8(ascii: "-")), (date.day, 2, UInt8(ascii: "T")),
            (secondOfDay / 3600, 2, UInt8(ascii: ":")), (secondOfDay / 60 % 60, 2, UInt8(ascii: ":")), (secondOfDay % 60, 2, UInt8(ascii: ".")),
            (Int(millisecondsSince1970 - seconds * 1000), 3, UInt8(ascii: "Z")),
        ]
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var offset = 0
            for field in fields {
                var value = field.value
                for position in stride(from: offset + field.width - 1, through: offset, by: -1) {
                    buffer[position] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                buffer[offset + field.width] = field.separator
                offset += field.width + 1
            }
            return offset
        }
    }

    /// Formats years outside 0 to 9999, which need more or fewer than four digits, with gmtime.
    private func formattedByGmtime() -> String {
        var seconds = time_t(floorDivide(millisecondsSince1970, 1000))
        let milliseconds = millisecondsSince1970 - Int64(seconds) * 1000
        var parts = tm()
        gmtime_r(&seconds, &parts)

        var text = ""
        text.reserveCapacity(24)
        appendPadded(Int(parts.tm_year) + 1900, width: 4, to: &text)
        text += "-"
        appendPadded(Int(parts.tm_mon) + 1, width: 2, to: &text)
        text += "-"
        appendPadded(Int(parts.tm_mday), width: 2, to: &text)
        text += "T"
        appendPadded(Int(parts.tm_hour), width: 2, to: &text)
        text += ":"
        appendPadded(Int(parts.tm_min), width: 2, to: &text)
        text += ":"
        appendPadded(Int(parts.tm_sec), width: 2, to: &text)
        text += "."
        appendPadded(Int(milliseconds), width: 3, to: &text)
        text += "Z"
        return text
    }

    /// Parses RFC 3339 text: `2026-12-04T19:21:41Z`, with any number of fraction digits (kept to
    /// the millisecond) and a `Z` or `±hh:mm` offset.
    public init?(rfc3339 text: String) {
        let bytes = Array(text.utf8)
        var position = 0

        func number(_ width: Int) -> Int? {
            guard position + width <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[position..<position + width] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            position += width
            return value
        }

        func expect(_ characters: String) -> Bool {
            guard position < bytes.count, characters.utf8.contains(bytes[position]) else { return false }
            position += 1
            return true
        }

        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
            let second = number(2)
        else { return nil }
        guard (1...12).contains(month), (1...daysInMonth(month, year: year)).contains(day), hour < 24, minute < 60,
            second < 61
        else { return nil }

        var milliseconds = 0
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            var digits = 0
            while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
                if digits < 3 { milliseconds = milliseconds * 10 + Int(bytes[position] - 0x30) }
                digits += 1
                position += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { milliseconds *= 10 }
        }

        var offsetSeconds = 0
        if expect("Zz") {
            offsetSeconds = 0
        } else if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
            let sign = bytes[position] == UInt8(ascii: "-") ? -1 : 1
            position += 1
            guard let offsetHours = number(2), expect(":"), let offsetMinutes = number(2), offsetHours < 24,
                offsetMinutes < 60
            else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard position == bytes.count else { return nil }

        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = Int64(timegm(&parts)) - Int64(offsetSeconds)
        self.millisecondsSince1970 = seconds * 1000 + Int64(milliseconds)
    }
}

/// Returns the number of days in `month` (1 to 12) of `year` in the proleptic Gregorian calendar.
private func daysInMonth(_ month: Int, year: Int) -> Int {
    switch month {
    case 2:
        let isLeapYear = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        return isLeapYear ? 29 : 28
    case 4, 6, 9, 11:
        return 30
    default:
        return 31
    }
}

private func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
    let quotient = value / divisor
    return (value % divisor < 0) ? quotient - 1 : quotient
}

/// Returns the proleptic Gregorian year, month and day of a day counted from 1970-01-01. The
/// count is shifted to start on 0000-03-01, so each 400-year era repeats and leap days end a year.
private func civilDate(daysSince1970 days: Int64) -> (year: Int, month: Int, day: Int) {
    let shifted = days + 719_468
    let era = floorDivide(shifted, 146_097)
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let shiftedMonth = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
    let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    return (Int(year), Int(month), Int(day))
}

private func appendPadded(_ value: Int, width: Int, to text: inout String) {
    let digits = String(value)
    if digits.count < width {
        text += String(repeating: "0", count: width - digits.count)
    }
    text += digits
}
