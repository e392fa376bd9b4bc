import DocumentStore

/// The transitions of the `delivery` field, as pure functions of the document's fields and the
/// time. Each returns the new fields, or `nil` when the document is no longer in a state that
/// allows the transition. The store applies them inside its transaction, so a check and its
/// write are atomic.
///
/// ```
/// (new) → PENDING → PROCESSING → SUCCESS | ERROR
///                        └─ lease expired → ERROR
/// SUCCESS | ERROR → (user writes RETRY or PENDING) → PROCESSING ...
/// ```
public enum DeliveryRecord {
    /// The `error` of an attempt whose lease ran out before it finished.
    public static let leaseExpiredMessage = "Message processing lease expired."

    /// `delivery` for a document that has just been written: `PENDING`, not tried yet.
    public static func initial(at now: Timestamp) -> JSONValue {
        [
            "state": .string(DeliveryState.pending.rawValue),
            "startTime": .string(now.description),
            "attempts": 0,
            "error": nil,
        ]
    }

    /// Starts an attempt: `PROCESSING` with a lease until `now + lease`, one more attempt.
    /// A document that has never been seen gets its initial record first.
    public static func claim(_ fields: JSONObject, at now: Timestamp, lease: Duration) -> JSONObject? {
        var delivery = fields["delivery"]?.objectValue ?? [:]
        let state = delivery["state"]?.stringValue

        if state == nil {
            delivery = initial(at: now).objectValue!
        } else if !DeliveryState.ready.map(\.rawValue).contains(state!) {
            return nil
        }

        delivery["state"] = .string(DeliveryState.processing.rawValue)
        delivery["attempts"] = .number(attempts(delivery) + 1)
        delivery["leaseExpireTime"] = .string(now.adding(lease).description)
        if delivery["startTime"]?.stringValue == nil {
            delivery["startTime"] = .string(now.description)
        }
        if delivery["error"] == nil {
            delivery["error"] = .null
        }

        var updated = fields
        updated["delivery"] = .object(delivery)
        return updated
    }

    /// Ends an attempt as `SUCCESS` with what the server reported.
    public static func succeed(
        _ fields: JSONObject, attempt: Int, info: DeliveryInfo, at now: Timestamp, ttl: TTLPolicy
    ) -> JSONObject? {
        finish(fields, attempt: attempt, at: now, ttl: ttl) { delivery in
            delivery["state"] = .string(DeliveryState.success.rawValue)
            delivery["error"] = .null
            delivery["info"] = info.jsonValue
        }
    }

    /// Ends an attempt as `ERROR` with `message`. The `info` of an earlier successful attempt is
    /// removed, because it no longer describes the document's last delivery.
    public static func fail(_ fields: JSONObject, attempt: Int, message: String, at now: Timestamp, ttl: TTLPolicy) -> JSONObject? {
        finish(fields, attempt: attempt, at: now, ttl: ttl) { delivery in
            delivery["state"] = .string(DeliveryState.error.rawValue)
            delivery["error"] = .string(message)
            delivery.removeValue(forKey: "info")
        }
    }

    /// Extends the lease of an attempt that is still running to `now + lease`. Returns `nil` when
    /// the document no longer belongs to that attempt.
    public static func renewLease(_ fields: JSONObject, attempt: Int, at now: Timestamp, lease: Duration) -> JSONObject? {
        guard var delivery = fields["delivery"]?.objectValue,
            delivery["state"]?.stringValue == DeliveryState.processing.rawValue,
            Int(attempts(delivery)) == attempt
        else { return nil }

        delivery["leaseExpireTime"] = .string(now.adding(lease).description)
        var updated = fields
        updated["delivery"] = .object(delivery)
        return updated
    }

    /// Gives back the claim of an attempt whose message never reached the server, as when the
    /// processor stops before a connection took it. The document is `PENDING` again with the
    /// attempt count it had before, so the next worker sends it. Returns `nil` when the document
    /// no longer belongs to that attempt.
    public static func release(_ fields: JSONObject, attempt: Int) -> JSONObject? {
        guard var delivery = fields["delivery"]?.objectValue,
            delivery["state"]?.stringValue == DeliveryState.processing.rawValue,
            Int(attempts(delivery)) == attempt
        else { return nil }

        delivery["state"] = .string(DeliveryState.pending.rawValue)
        delivery["attempts"] = .number(Double(max(attempt - 1, 0)))
        delivery["leaseExpireTime"] = .null
        var updated = fields
        updated["delivery"] = .object(delivery)
        return updated
    }

    /// Ends an attempt whose lease has run out as `ERROR`. Returns `nil` unless the document is
    /// still `PROCESSING` and its lease (or a missing one) is before `now`.
    public static func expireLease(_ fields: JSONObject, at now: Timestamp, ttl: TTLPolicy) -> JSONObject? {
        guard var delivery = fields["delivery"]?.objectValue,
            delivery["state"]?.stringValue == DeliveryState.processing.rawValue
        else { return nil }

        if let lease = delivery["leaseExpireTime"]?.stringValue.flatMap(Timestamp.init(rfc3339:)), lease >= now {
            return nil
        }

        delivery["state"] = .string(DeliveryState.error.rawValue)
        delivery["error"] = .string(leaseExpiredMessage)
        delivery["endTime"] = .string(now.description)
        delivery["leaseExpireTime"] = .null
        if let expireAt = ttl.expireAt(after: now) {
            delivery["expireAt"] = .string(expireAt.description)
        }

        var updated = fields
        updated["delivery"] = .object(delivery)
        return updated
    }

    /// Returns the attempt number of a claimed document, which identifies the attempt when its
    /// outcome is written.
    public static func attempt(of fields: JSONObject) -> Int {
        Int(attempts(fields["delivery"]?.objectValue ?? [:]))
    }

    /// Writes an attempt's outcome only if the document still belongs to that attempt: it is
    /// `PROCESSING` with the same attempt count, or the lease sweep ended this same attempt as
    /// expired (then the real outcome replaces the guess). A user who wrote `RETRY` meanwhile,
    /// or another worker's later attempt, is left alone.
    private static func finish(
        _ fields: JSONObject, attempt: Int, at now: Timestamp, ttl: TTLPolicy, apply: (inout JSONObject) -> Void
    ) -> JSONObject? {
        guard var delivery = fields["delivery"]?.objectValue, Int(attempts(delivery)) == attempt else { return nil }

        let state = delivery["state"]?.stringValue
        let endedByLeaseSweep = state == DeliveryState.error.rawValue && delivery["error"]?.stringValue == leaseExpiredMessage
        guard state == DeliveryState.processing.rawValue || endedByLeaseSweep else { return nil }

        apply(&delivery)
        delivery["endTime"] = .string(now.description)
        delivery["leaseExpireTime"] = .null
        if let expireAt = ttl.expireAt(after: now) {
            delivery["expireAt"] = .string(expireAt.description)
        }

        var updated = fields
        updated["delivery"] = .object(delivery)
        return updated
    }

    /// Returns the attempt count as written, or 0 when it is missing, negative, fractional beyond use or
    /// too large to be a count (anything from 2^53 on), so a hand-edited value cannot crash the
    /// processor.
    private static func attempts(_ delivery: JSONObject) -> Double {
        guard let count = delivery["attempts"]?.numberValue, count >= 0, count < 9_007_199_254_740_992 else { return 0 }
        return count.rounded(.down)
    }
}

/// `delivery.info`: what the server did with the message.
public struct DeliveryInfo: Sendable, Equatable {
    /// The Message-ID header's value.
    public var messageID: String
    public var accepted: [String]
    public var rejected: [String]
    /// Recipients refused with a 4xx reply; they did not get the message.
    public var pending: [String]
    /// The server's last reply.
    public var response: String

    public init(messageID: String, accepted: [String], rejected: [String], pending: [String], response: String) {
        self.messageID = messageID
        self.accepted = accepted
        self.rejected = rejected
        self.pending = pending
        self.response = response
    }

    public var jsonValue: JSONValue {
        [
            "messageId": .string(messageID),
            "accepted": .array(accepted.map(JSONValue.string)),
            "rejected": .array(rejected.map(JSONValue.string)),
            "pending": .array(pending.map(JSONValue.string)),
            "response": .string(response),
        ]
    }
}
