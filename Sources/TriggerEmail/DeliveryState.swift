/// The values of `delivery.state`.
public enum DeliveryState: String, Sendable, CaseIterable {
    case pending = "PENDING"
    case processing = "PROCESSING"
    case success = "SUCCESS"
    case error = "ERROR"
    /// Written by a user to send a `SUCCESS` or `ERROR` document again.
    case retry = "RETRY"

    /// The states a document is claimed from; a document without `delivery.state` is claimed too.
    public static let ready: [DeliveryState] = [.pending, .retry]
}
