import DocumentStore
import Foundation
import Testing

@Suite("Timestamp")
struct TimestampTests {
    /// 2026-12-04T19:21:41.123Z
    static let example = Timestamp(millisecondsSince1970: 1_796_412_101_123)

    @Test(
        "format in UTC with milliseconds",
        arguments: [
            (Int64(0), "1970-01-01T00:00:00.000Z"),
            (1_796_412_101_123, "2026-12-04T19:21:41.123Z"),
            (1_796_412_101_005, "2026-12-04T19:21:41.005Z"),
            (1_796_412_101_050, "2026-12-04T19:21:41.050Z"),
            (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        ])
    func format(milliseconds: Int64, expected: String) {
        #expect(Timestamp(millisecondsSince1970: milliseconds).description == expected)
    }

    @Test("format agrees with gmtime from year 1 to 9999")
    func formatAgreesWithGmtime() {
        var generator = SystemRandomNumberGenerator()
        let first: Int64 = -62_135_596_800_000
        let last: Int64 = 253_402_300_799_999
        var samples: [Int64] = (0..<20_000).map { _ in Int64.random(in: first...last, using: &generator) }
        // Days around the leap days and the turns of the centuries that are and are not leap years.
        samples += [951_782_399_999, 951_782_400_000, 951_868_800_000, -2_203_891_200_001, -2_203_891_200_000, 4_107_542_400_000]

        for milliseconds in samples {
            #expect(Timestamp(millisecondsSince1970: milliseconds).description == Self.gmtimeText(milliseconds), "\(milliseconds)")
        }
    }

    private static func gmtimeText(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
        let fraction = Int(milliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), fraction)
    }

    @Test(
        "parse",
        arguments: [
            ("2026-12-04T19:21:41.123Z", Int64(1_796_412_101_123)),
            ("2026-12-04T19:21:41Z", 1_796_412_101_000),
            ("2026-12-04T19:21:41.1Z", 1_796_412_101_100),
            ("2026-12-04T19:21:41.12Z", 1_796_412_101_120),
            ("2026-12-04T19:21:41.123456789Z", 1_796_412_101_123),
            ("2026-12-04t19:21:41.123z", 1_796_412_101_123),
            ("2026-12-04 19:21:41.123Z", 1_796_412_101_123),
            ("1970-01-01T00:00:00Z", 0),
            ("1969-12-31T23:59:59.999Z", -1),
            ("2024-02-29T00:00:00Z", 1_709_164_800_000),
            ("2000-02-29T00:00:00Z", 951_782_400_000),
        ])
    func parse(text: String, expected: Int64) {
        #expect(Timestamp(rfc3339: text)?.millisecondsSince1970 == expected)
    }

    @Test(
        "parse with an offset",
        arguments: [
            "2026-12-04T21:21:41.123+02:00",
            "2026-12-04T13:51:41.123-05:30",
            "2026-12-05T00:21:41.123+05:00",
            "2026-12-04T19:21:41.123+00:00",
            "2026-12-04T19:21:41.123-00:00",
            "2026-12-05T09:06:41.123+13:45",
        ])
    func parseWithOffset(text: String) {
        #expect(Timestamp(rfc3339: text) == Self.example)
    }

    @Test(
        "parse rejects invalid text",
        arguments: [
            "", "2026-12-04", "2026-12-04T19:21:41", "2026-12-04T19:21Z", "2026-12-04T19:21:41.Z",
            "2026-12-04T19:21:41.123", "26-12-04T19:21:41Z", "2026/12/04T19:21:41Z", "2026-12-04X19:21:41Z",
            "2026-13-04T19:21:41Z", "2026-00-04T19:21:41Z", "2026-12-00T19:21:41Z", "2026-12-32T19:21:41Z",
            "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-31T00:00:00Z",
            "2026-12-04T24:00:00Z", "2026-12-04T19:60:00Z", "2026-12-04T19:21:61Z",
            "2026-12-04T19:21:41+0200", "2026-12-04T19:21:41+02", "2026-12-04T19:21:41+24:00",
            "2026-12-04T19:21:41+02:60", "2026-12-04T19:21:41Z ", " 2026-12-04T19:21:41Z", "2026-12-04T19:21:41ZZ",
            "2026-12-04T19:21:41.123Zx", "２０２６-12-04T19:21:41Z", "2026-12-04T19:21:41 UTC",
        ])
    func parseRejects(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test(
        "format then parse gives the same moment",
        arguments: [Int64(0), 1, -1, 999, 1_796_412_101_123, 1_709_251_199_999, -62_135_596_800_000, 253_402_300_799_999])
    func roundTrip(milliseconds: Int64) {
        let timestamp = Timestamp(millisecondsSince1970: milliseconds)
        #expect(Timestamp(rfc3339: timestamp.description) == timestamp)
    }

    @Test("from a Date, rounded down to the millisecond")
    func fromDate() {
        #expect(Timestamp(Date(timeIntervalSince1970: 1_796_412_101.1239)).millisecondsSince1970 == 1_796_412_101_123)
        #expect(Timestamp(Date(timeIntervalSince1970: -0.0005)).millisecondsSince1970 == -1)
    }

    @Test("to a Date")
    func toDate() {
        #expect(Self.example.date == Date(timeIntervalSince1970: 1_796_412_101.123))
    }

    @Test("adding durations and milliseconds")
    func adding() {
        #expect(Self.example.adding(.seconds(90)).description == "2026-12-04T19:23:11.123Z")
        #expect(Self.example.adding(.milliseconds(1_877)).description == "2026-12-04T19:21:43.000Z")
        #expect(Self.example.adding(.seconds(86_400)).description == "2026-12-05T19:21:41.123Z")
        #expect(Self.example.adding(milliseconds: -124).description == "2026-12-04T19:21:40.999Z")
    }

    @Test("text order matches time order")
    func textOrder() {
        let timestamps = [
            1_796_412_101_123, 1_796_412_101_122, 1_796_412_101_124, 1_796_412_102_000, 1_796_412_100_999, 0, -1,
            -86_400_000, 1_000, 999, 946_684_799_999, 946_684_800_000, 253_402_300_799_999, -62_135_596_800_000,
        ].map { Timestamp(millisecondsSince1970: $0) }

        let byTime = timestamps.sorted()
        let byText = timestamps.sorted { $0.description < $1.description }
        #expect(byText == byTime)
    }

    @Test("comparison")
    func comparison() {
        #expect(Self.example < Self.example.adding(milliseconds: 1))
        #expect(!(Self.example < Self.example))
        #expect(Self.example.adding(milliseconds: -1) < Self.example)
    }
}
