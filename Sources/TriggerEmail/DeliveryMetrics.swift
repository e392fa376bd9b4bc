import Foundation

/// Counters and histograms of deliveries in this process, for `/metrics`.
public final class DeliveryMetrics: @unchecked Sendable {
    /// A histogram with fixed upper bounds, in seconds, counted as Prometheus counts them:
    /// each bucket counts the observations at or below its bound.
    public struct Histogram: Sendable {
        public let bounds: [Double]
        public private(set) var bucketCounts: [UInt64]
        public private(set) var sum: Double = 0
        public private(set) var count: UInt64 = 0

        init(bounds: [Double]) {
            self.bounds = bounds
            bucketCounts = Array(repeating: 0, count: bounds.count)
        }

        mutating func observe(_ seconds: Double) {
            for (index, bound) in bounds.enumerated() where seconds <= bound {
                bucketCounts[index] += 1
            }
            sum += seconds
            count += 1
        }
    }

    /// The values at one moment.
    public struct Snapshot: Sendable {
        /// Attempts started.
        public var attempts: UInt64 = 0
        /// Attempts ended, by outcome: `success`, `error` or `lease_expired`.
        public var outcomes: [String: UInt64] = [:]
        /// SMTP transactions by the class of the server's last reply (`2xx`, `4xx`, `5xx`), or
        /// `none` when the connection failed before a reply.
        public var smtpReplies: [String: UInt64] = [:]
        /// From the document's creation to `SUCCESS`.
        public var insertToSuccess = Histogram(bounds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300])
        /// One SMTP transaction, from taking a connection to the reply to the message data.
        public var smtpTransaction = Histogram(bounds: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])
    }

    private let lock = NSLock()
    private var current = Snapshot()

    public init() {}

    public var snapshot: Snapshot {
        lock.withLock { current }
    }

    func recordAttempt() {
        lock.withLock { current.attempts += 1 }
    }

    func recordOutcome(_ outcome: String) {
        lock.withLock { current.outcomes[outcome, default: 0] += 1 }
    }

    func recordSuccess(insertToSuccess seconds: Double) {
        lock.withLock {
            current.outcomes["success", default: 0] += 1
            current.insertToSuccess.observe(max(0, seconds))
        }
    }

    func recordSMTPTransaction(seconds: Double, replyCode: Int?) {
        let replyClass = replyCode.map { "\($0 / 100)xx" } ?? "none"
        lock.withLock {
            current.smtpReplies[replyClass, default: 0] += 1
            current.smtpTransaction.observe(seconds)
        }
    }
}
