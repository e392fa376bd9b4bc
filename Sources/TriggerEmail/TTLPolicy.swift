import DocumentStore
import Foundation

/// `TTL_EXPIRE_TYPE` and `TTL_EXPIRE_VALUE`: how long after its last attempt a document may be
/// deleted, written to `delivery.expireAt` for a TTL job or policy to act on.
public struct TTLPolicy: Sendable, Equatable {
    public enum Unit: String, Sendable, CaseIterable {
        case never, hour, day, week, month, year

        /// The largest count of this unit that stays within 100 years.
        var maxValueForOneHundredYears: Int {
            switch self {
            case .never: Int.max
            case .hour: 876_600
            case .day: 36_525
            case .week: 5_217
            case .month: 1_200
            case .year: 100
            }
        }
    }

    public var unit: Unit
    /// How many units; at least 1.
    public var value: Int

    public init(unit: Unit = .never, value: Int = 1) {
        self.unit = unit
        self.value = value
    }

    /// Returns the `expireAt` for an attempt that ended at `end`, or `nil` when documents never expire.
    /// Months and years follow the calendar in UTC, so one month after 31 January is 28 or 29
    /// February.
    public func expireAt(after end: Timestamp) -> Timestamp? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!

        let component: Calendar.Component
        switch unit {
        case .never: return nil
        case .hour: component = .hour
        case .day: component = .day
        case .week: component = .weekOfYear
        case .month: component = .month
        case .year: component = .year
        }
        guard let date = calendar.date(byAdding: component, value: value, to: end.date) else { return nil }
        return Timestamp(date)
    }
}
