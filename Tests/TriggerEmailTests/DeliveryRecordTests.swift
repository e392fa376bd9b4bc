import DocumentStore
import Testing
import TriggerEmail

@Suite("Delivery record transitions")
struct DeliveryRecordTests {
    let start = Timestamp(rfc3339: "2026-12-04T19:21:41.123Z")!
    let info = DeliveryInfo(messageID: "<m@example.com>", accepted: ["a@example.org"], rejected: [], pending: [], response: "250 OK")

    @Test("Claim of a new document starts attempt 1")
    func claimNewDocument() throws {
        let claimed = try #require(DeliveryRecord.claim(["to": "a@example.org"], at: start, lease: .seconds(60)))

        #expect(claimed["to"] == "a@example.org")
        #expect(claimed["delivery"] == [
            "state": "PROCESSING", "startTime": "2026-12-04T19:21:41.123Z", "attempts": 1, "error": nil,
            "leaseExpireTime": "2026-12-04T19:22:41.123Z",
        ])
    }

    @Test("Claim of RETRY keeps counting attempts and the last error")
    func claimRetry() throws {
        let fields: JSONObject = [
            "delivery": ["state": "RETRY", "startTime": "2026-12-01T00:00:00.000Z", "attempts": 2, "error": "550 no"],
        ]
        let claimed = try #require(DeliveryRecord.claim(fields, at: start, lease: .seconds(5)))

        #expect(claimed["delivery"]?[path: "attempts"] == 3)
        #expect(claimed["delivery"]?[path: "startTime"] == "2026-12-01T00:00:00.000Z")
        #expect(claimed["delivery"]?[path: "error"] == "550 no")
        #expect(claimed["delivery"]?[path: "leaseExpireTime"] == "2026-12-04T19:21:46.123Z")
    }

    @Test("Claim survives an absurd attempt count")
    func absurdAttemptCount() throws {
        for attempts in [1e300, -5, 9_007_199_254_740_992] as [Double] {
            let claimed = try #require(DeliveryRecord.claim(["delivery": ["state": "RETRY", "attempts": .number(attempts)]], at: start, lease: .seconds(60)))
            #expect(claimed["delivery"]?[path: "attempts"] == 1)
            #expect(DeliveryRecord.attempt(of: claimed) == 1)
        }
    }

    @Test("Claim refuses documents that are not ready")
    func claimRefusesFinishedDocuments() {
        for state in ["PROCESSING", "SUCCESS", "ERROR", "SOMETHING"] {
            #expect(DeliveryRecord.claim(["delivery": ["state": .string(state)]], at: start, lease: .seconds(60)) == nil)
        }
    }

    @Test("Success records info, clears lease and error")
    func succeed() throws {
        let processing = try #require(DeliveryRecord.claim([:], at: start, lease: .seconds(60)))
        let end = start.adding(milliseconds: 250)
        let done = try #require(DeliveryRecord.succeed(processing, attempt: 1, info: info, at: end, ttl: TTLPolicy()))

        #expect(done["delivery"] == [
            "state": "SUCCESS", "startTime": "2026-12-04T19:21:41.123Z", "endTime": "2026-12-04T19:21:41.373Z",
            "attempts": 1, "error": nil, "leaseExpireTime": nil,
            "info": [
                "messageId": "<m@example.com>", "accepted": ["a@example.org"], "rejected": [], "pending": [],
                "response": "250 OK",
            ],
        ])
    }

    @Test("Failure records the error and the TTL")
    func fail() throws {
        let processing = try #require(DeliveryRecord.claim([:], at: start, lease: .seconds(60)))
        let failed = try #require(
            DeliveryRecord.fail(processing, attempt: 1, message: "boom", at: start, ttl: TTLPolicy(unit: .day, value: 2)))

        #expect(failed["delivery"]?[path: "state"] == "ERROR")
        #expect(failed["delivery"]?[path: "error"] == "boom")
        #expect(failed["delivery"]?[path: "expireAt"] == "2026-12-06T19:21:41.123Z")
    }

    @Test("Lease renewal only for the running attempt")
    func leaseRenewal() throws {
        let processing = try #require(DeliveryRecord.claim([:], at: start, lease: .seconds(60)))
        let later = start.adding(milliseconds: 20_000)

        let renewed = try #require(DeliveryRecord.renewLease(processing, attempt: 1, at: later, lease: .seconds(60)))
        #expect(renewed["delivery"]?[path: "leaseExpireTime"] == "2026-12-04T19:23:01.123Z")
        #expect(DeliveryRecord.renewLease(processing, attempt: 2, at: later, lease: .seconds(60)) == nil)

        let done = try #require(DeliveryRecord.succeed(processing, attempt: 1, info: info, at: later, ttl: TTLPolicy()))
        #expect(DeliveryRecord.renewLease(done, attempt: 1, at: later, lease: .seconds(60)) == nil)
    }

    @Test("Released claim is PENDING with the earlier count")
    func releaseClaim() throws {
        let fields: JSONObject = [
            "to": "a@example.org",
            "delivery": ["state": "RETRY", "startTime": "2026-12-01T00:00:00.000Z", "attempts": 2, "error": "550 no"],
        ]
        let claimed = try #require(DeliveryRecord.claim(fields, at: start, lease: .seconds(60)))
        let released = try #require(DeliveryRecord.release(claimed, attempt: 3))

        #expect(released["to"] == "a@example.org")
        #expect(released["delivery"] == [
            "state": "PENDING", "startTime": "2026-12-01T00:00:00.000Z", "attempts": 2, "error": "550 no", "leaseExpireTime": nil,
        ])
        #expect(DeliveryRecord.release(claimed, attempt: 2) == nil)
        #expect(DeliveryRecord.release(fields, attempt: 2) == nil)
    }

    @Test("Failure removes the info of an earlier success")
    func failureRemovesInfo() throws {
        var fields = try #require(DeliveryRecord.claim([:], at: start, lease: .seconds(60)))
        fields["delivery"] = fields["delivery"]?.applyingMergePatch(["info": ["messageId": "<old@example.com>"]])

        let failed = try #require(DeliveryRecord.fail(fields, attempt: 1, message: "boom", at: start, ttl: TTLPolicy()))
        #expect(failed["delivery"]?[path: "info"] == nil)
    }

    @Test("Outcome of another attempt is not written")
    func staleOutcomeIgnored() throws {
        let processing = try #require(DeliveryRecord.claim([:], at: start, lease: .seconds(60)))

        #expect(DeliveryRecord.succeed(processing, attempt: 2, info: info, at: start, ttl: TTLPolicy()) == nil)

        var retried = processing
        retried["delivery"] = ["state": "RETRY", "attempts": 1]
        #expect(DeliveryRecord.succeed(retried, attempt: 1, info: info, at: start, ttl: TTLPolicy()) == nil)
    }

    @Test("Real outcome replaces the lease sweep's guess")
    func outcomeAfterLeaseExpiry() throws {
        let processing = try #require(DeliveryRecord.claim([:], at: start, lease: .seconds(1)))
        let expired = try #require(DeliveryRecord.expireLease(processing, at: start.adding(milliseconds: 1001), ttl: TTLPolicy()))
        #expect(expired["delivery"]?[path: "error"] == "Message processing lease expired.")

        let done = try #require(DeliveryRecord.succeed(expired, attempt: 1, info: info, at: start.adding(milliseconds: 1500), ttl: TTLPolicy()))
        #expect(done["delivery"]?[path: "state"] == "SUCCESS")
        #expect(done["delivery"]?[path: "error"] == .null)
    }

    @Test("Lease expiry waits for the lease to end")
    func leaseExpiryTiming() throws {
        let processing = try #require(DeliveryRecord.claim([:], at: start, lease: .seconds(60)))

        #expect(DeliveryRecord.expireLease(processing, at: start.adding(milliseconds: 60_000), ttl: TTLPolicy()) == nil)
        let expired = try #require(DeliveryRecord.expireLease(processing, at: start.adding(milliseconds: 60_001), ttl: TTLPolicy()))
        #expect(expired["delivery"]?[path: "state"] == "ERROR")
        #expect(expired["delivery"]?[path: "endTime"] == "2026-12-04T19:22:41.124Z")
        #expect(expired["delivery"]?[path: "leaseExpireTime"] == .null)
        #expect(expired["delivery"]?[path: "attempts"] == 1)
    }

    @Test("Lease expiry treats a missing lease as expired")
    func missingLeaseExpires() {
        let fields: JSONObject = ["delivery": ["state": "PROCESSING", "attempts": 1]]
        #expect(DeliveryRecord.expireLease(fields, at: start, ttl: TTLPolicy())?["delivery"]?[path: "state"] == "ERROR")
    }

    @Test("TTL months follow the calendar")
    func ttlMonths() {
        let endOfJanuary = Timestamp(rfc3339: "2027-01-31T10:00:00.000Z")!
        #expect(TTLPolicy(unit: .month, value: 1).expireAt(after: endOfJanuary)?.description == "2027-02-28T10:00:00.000Z")
        #expect(TTLPolicy(unit: .hour, value: 3).expireAt(after: endOfJanuary)?.description == "2027-01-31T13:00:00.000Z")
        #expect(TTLPolicy(unit: .week, value: 1).expireAt(after: endOfJanuary)?.description == "2027-02-07T10:00:00.000Z")
        #expect(TTLPolicy(unit: .year, value: 1).expireAt(after: endOfJanuary)?.description == "2028-01-31T10:00:00.000Z")
        #expect(TTLPolicy().expireAt(after: endOfJanuary) == nil)
    }
}
