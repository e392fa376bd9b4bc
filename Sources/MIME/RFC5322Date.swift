import Foundation

/// The `Date` header's format (RFC 5322 section 3.3), always in UTC:
/// `Fri, 04 Dec 2026 19:21:41 +0000`.
enum RFC5322Date {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func format(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)

        let day = parts.tm_mday < 10 ? "0\(parts.tm_mday)" : "\(parts.tm_mday)"
        let time = String(format: "%02d:%02d:%02d", Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        return "\(weekdays[Int(parts.tm_wday)]), \(day) \(months[Int(parts.tm_mon)]) \(Int(parts.tm_year) + 1900) \(time) +0000"
    }
}
