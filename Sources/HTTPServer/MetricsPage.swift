import DocumentStore
import Foundation
import TriggerEmail

/// `/metrics` in Prometheus' text format, version 0.0.4.
public struct MetricsPage: Sendable {
    /// The SMTP pool's connections at one moment.
    public struct SMTPConnections: Sendable {
        public var idle: Int
        public var inUse: Int
        public var opened: Int

        public init(idle: Int, inUse: Int, opened: Int) {
            self.idle = idle
            self.inUse = inUse
            self.opened = opened
        }
    }

    let store: any DocumentStore
    let mailCollection: String
    let metrics: DeliveryMetrics
    let smtpConnections: @Sendable () -> SMTPConnections?
    private let counts: DocumentCounts

    /// `smtpConnections` returns `nil` when messages go to the outbox folder.
    public init(
        store: any DocumentStore, mailCollection: String, metrics: DeliveryMetrics,
        smtpConnections: @escaping @Sendable () -> SMTPConnections?
    ) {
        self.store = store
        self.mailCollection = mailCollection
        self.metrics = metrics
        self.smtpConnections = smtpConnections
        counts = DocumentCounts(store: store, mailCollection: mailCollection)
    }

    /// Renders every metric. Document counts come from the store, at most a second old, so
    /// they include documents that other processes handle.
    public func render() async -> String {
        var text = ""
        let snapshot = metrics.snapshot

        text += header("trigger_email_documents", "gauge", "Mail documents by delivery state; OTHER have no state or an unknown one.")
        for (state, count) in await counts.current() {
            text += "trigger_email_documents{state=\"\(state)\"} \(count.map(String.init) ?? "NaN")\n"
        }

        text += header("trigger_email_delivery_attempts_total", "counter", "Delivery attempts started by this process.")
        text += "trigger_email_delivery_attempts_total \(snapshot.attempts)\n"

        text += header("trigger_email_delivery_outcomes_total", "counter", "Delivery attempts ended by this process, by outcome.")
        for outcome in ["success", "error", "lease_expired"] {
            text += "trigger_email_delivery_outcomes_total{outcome=\"\(outcome)\"} \(snapshot.outcomes[outcome] ?? 0)\n"
        }

        text += header("trigger_email_smtp_replies_total", "counter", "SMTP transactions by the class of the last reply; none when no reply came.")
        for replyClass in ["2xx", "4xx", "5xx", "none"] {
            text += "trigger_email_smtp_replies_total{class=\"\(replyClass)\"} \(snapshot.smtpReplies[replyClass] ?? 0)\n"
        }

        if let connections = smtpConnections() {
            text += header("trigger_email_smtp_connections", "gauge", "Open SMTP connections of the pool.")
            text += "trigger_email_smtp_connections{state=\"idle\"} \(connections.idle)\n"
            text += "trigger_email_smtp_connections{state=\"in_use\"} \(connections.inUse)\n"
            text += header("trigger_email_smtp_connections_opened_total", "counter", "SMTP connections opened since the start.")
            text += "trigger_email_smtp_connections_opened_total \(connections.opened)\n"
        }

        text += histogram(
            "trigger_email_insert_to_success_seconds", "Time from adding a document to its SUCCESS.", snapshot.insertToSuccess)
        text += histogram(
            "trigger_email_smtp_transaction_seconds", "Time of one SMTP transaction, until the reply to the message data.",
            snapshot.smtpTransaction)
        return text
    }

    private func header(_ name: String, _ type: String, _ help: String) -> String {
        "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    private func histogram(_ name: String, _ help: String, _ histogram: DeliveryMetrics.Histogram) -> String {
        var text = header(name, "histogram", help)
        for (bound, count) in zip(histogram.bounds, histogram.bucketCounts) {
            text += "\(name)_bucket{le=\"\(bound)\"} \(count)\n"
        }
        text += "\(name)_bucket{le=\"+Inf\"} \(histogram.count)\n"
        text += "\(name)_sum \(histogram.sum)\n"
        text += "\(name)_count \(histogram.count)\n"
        return text
    }
}
