import DocumentStore
import TestSupport
import Testing

/// A new, empty database for one contract check.
struct ContractDatabase: Sendable {
    /// Opens a store on the database. Every call opens another instance with connections of its
    /// own, as another process would.
    var openStore: @Sendable () async throws -> any DocumentStore
    /// Deletes the database once the check is done.
    var remove: @Sendable () async throws -> Void
}

/// The behavior every `DocumentStore` must have, written once for all stores.
///
/// A store's suite builds the contract with a factory that makes a new, empty database for each
/// check, and calls each check from a `@Test` of its own, so a failure names the case.
struct DocumentStoreContract: Sendable {
    var makeDatabase: @Sendable () async throws -> ContractDatabase

    static let collection = "mail"

    // MARK: - Add, get, set, merge, delete

    func addThenGet() async throws {
        try await withStore { store in
            let data: JSONObject = ["to": "ana@example.org", "message": ["subject": "Hi", "text": "Hello"], "n": 1.5]
            let added = try await store.add(data, to: Self.collection, id: "order-1042")

            #expect(added.id == "order-1042")
            #expect(added.collection == Self.collection)
            #expect(added.data == data)
            #expect(added.createTime == added.updateTime)
            #expect(try await store.get("order-1042", from: Self.collection) == added)
        }
    }

    func addWithoutIDMakesRandomID() async throws {
        try await withStore { store in
            let first = try await store.add(["n": 1], to: Self.collection, id: nil)
            let second = try await store.add(["n": 2], to: Self.collection, id: nil)

            #expect(first.id.count == 20)
            #expect(first.id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
            #expect(first.id != second.id)
            #expect(try await store.get(second.id, from: Self.collection)?.data == ["n": 2])
        }
    }

    func addTakenIDThrowsAlreadyExists() async throws {
        try await withStore { store in
            let original = try await store.add(["n": 1], to: Self.collection, id: "order-1042")

            let error = await #expect(throws: DocumentStoreError.self) {
                try await store.add(["n": 2], to: Self.collection, id: "order-1042")
            }
            #expect(error?.kind == .alreadyExists)
            #expect(error?.message == "A document with ID order-1042 already exists in mail; choose another ID.")
            #expect(try await store.get("order-1042", from: Self.collection) == original)
        }
    }

    func addInvalidIDThrowsInvalidArgument() async throws {
        try await withStore { store in
            let idError = await #expect(throws: DocumentStoreError.self) {
                try await store.add(["n": 1], to: Self.collection, id: "../x")
            }
            #expect(idError?.kind == .invalidArgument)
            #expect(idError?.message == "Invalid document ID \"../x\": use 1 to 128 letters, digits, '-' or '_'.")

            let collectionError = await #expect(throws: DocumentStoreError.self) {
                try await store.add(["n": 1], to: "mail box", id: nil)
            }
            #expect(collectionError?.kind == .invalidArgument)
            #expect(collectionError?.message == "Invalid collection name \"mail box\": use 1 to 128 letters, digits, '-' or '_'.")
            let count = try await store.count(Self.collection, state: nil)
            #expect(count == 0)
        }
    }

    func getMissingReturnsNil() async throws {
        try await withStore { store in
            let missing = try await store.get("missing", from: Self.collection)
            #expect(missing == nil)
        }
    }

    func collectionsAreSeparate() async throws {
        try await withStore { store in
            _ = try await store.add(["in": "mail"], to: "mail", id: "same")
            _ = try await store.add(["in": "other"], to: "other", id: "same")

            #expect(try await store.get("same", from: "mail")?.data == ["in": "mail"])
            #expect(try await store.get("same", from: "other")?.data == ["in": "other"])
            #expect(try await store.delete("same", from: "other"))
            #expect(try await store.get("same", from: "mail")?.data == ["in": "mail"])
            #expect(try await store.count("other", state: nil) == 0)
        }
    }

    func addBatchKeepsOrder() async throws {
        try await withStore { store in
            let batch: [JSONObject] = (0..<5).map { ["n": .number(Double($0))] }
            let added = try await store.addBatch(batch, to: Self.collection)

            #expect(added.map(\.data) == batch)
            #expect(Set(added.map(\.id)).count == 5)
            let listed = try await store.list(Self.collection, ListQuery())
            #expect(listed.documents == added)
        }
    }

    func setCreatesThenReplaces() async throws {
        try await withStore { store in
            let created = try await store.set(["a": 1, "b": 2], id: "doc", in: Self.collection)
            #expect(created.data == ["a": 1, "b": 2])
            #expect(created.createTime == created.updateTime)

            let replaced = try await store.set(["c": 3], id: "doc", in: Self.collection)
            #expect(replaced.data == ["c": 3])
            #expect(replaced.createTime == created.createTime)
            #expect(replaced.updateTime > created.updateTime)
            #expect(try await store.get("doc", from: Self.collection) == replaced)
        }
    }

    func mergeAppliesPatch() async throws {
        try await withStore { store in
            let original = try await store.add(
                ["to": "ana@example.org", "delivery": ["state": "ERROR", "attempts": 2, "error": "550 no such user"]],
                to: Self.collection, id: "doc")

            let merged = try await store.merge(
                ["delivery": ["state": "RETRY", "error": nil], "note": "retried"], id: "doc", in: Self.collection)

            let expected: JSONObject = [
                "to": "ana@example.org", "delivery": ["state": "RETRY", "attempts": 2], "note": "retried",
            ]
            #expect(merged.data == expected)
            #expect(merged.updateTime > original.updateTime)
            #expect(merged.createTime == original.createTime)
            #expect(try await store.get("doc", from: Self.collection) == merged)
        }
    }

    func mergeMissingThrowsNotFound() async throws {
        try await withStore { store in
            let error = await #expect(throws: DocumentStoreError.self) {
                try await store.merge(["a": 1], id: "missing", in: Self.collection)
            }
            #expect(error?.kind == .notFound)
            #expect(error?.message == "No document with ID missing in mail.")
            let missing = try await store.get("missing", from: Self.collection)
            #expect(missing == nil)
        }
    }

    func deleteRemovesOnce() async throws {
        try await withStore { store in
            _ = try await store.add(["n": 1], to: Self.collection, id: "doc")

            #expect(try await store.delete("doc", from: Self.collection))
            #expect(try await store.get("doc", from: Self.collection) == nil)
            #expect(try await store.delete("doc", from: Self.collection) == false)
        }
    }

    func updateTimeMovesOnEveryWrite() async throws {
        try await withStore { store in
            var previous = try await store.add(["n": 0], to: Self.collection, id: "doc")
            for n in 1...20 {
                let updated = try #require(
                    try await store.update("doc", in: Self.collection) { _ in ["n": .number(Double(n))] })
                #expect(updated.updateTime > previous.updateTime)
                previous = updated
            }
        }
    }

    func documentsSurviveReopening() async throws {
        try await withDatabase { database in
            let first = try await database.openStore()
            let added = try await first.add(["kept": true], to: Self.collection, id: "doc")
            await first.close()

            let second = try await database.openStore()
            let reread = try await second.get("doc", from: Self.collection)
            await second.close()
            #expect(reread == added)
        }
    }

    func closedStoreRejectsCalls() async throws {
        try await withDatabase { database in
            let store = try await database.openStore()
            await store.close()

            await #expect(throws: (any Error).self) {
                try await store.get("doc", from: Self.collection)
            }
        }
    }

    // MARK: - List and count

    func listPagesInAddOrder() async throws {
        try await withStore { store in
            var ids: [String] = []
            for n in 0..<25 {
                ids.append(try await store.add(["n": .number(Double(n))], to: Self.collection, id: nil).id)
            }

            let first = try await store.list(Self.collection, ListQuery(limit: 10))
            let firstToken = try #require(first.nextPageToken)
            let second = try await store.list(Self.collection, ListQuery(limit: 10, pageToken: firstToken))
            let secondToken = try #require(second.nextPageToken)
            let third = try await store.list(Self.collection, ListQuery(limit: 10, pageToken: secondToken))

            #expect(first.documents.map(\.id) == Array(ids[0..<10]))
            #expect(second.documents.map(\.id) == Array(ids[10..<20]))
            #expect(third.documents.map(\.id) == Array(ids[20..<25]))
            #expect(third.nextPageToken == nil)
        }
    }

    func listNewestFirstPages() async throws {
        try await withStore { store in
            let states = ["ERROR", "SUCCESS", "ERROR", "ERROR", "SUCCESS", "ERROR"]
            let added = try await store.addBatch(states.map { ["delivery": ["state": .string($0)]] }, to: Self.collection)
            let ids = added.map(\.id)

            let first = try await store.list(Self.collection, ListQuery(limit: 4, newestFirst: true))
            let token = try #require(first.nextPageToken)
            let second = try await store.list(Self.collection, ListQuery(limit: 4, pageToken: token, newestFirst: true))
            let errors = try await store.list(Self.collection, ListQuery(state: "ERROR", limit: 3, newestFirst: true))

            #expect(first.documents.map(\.id) == [ids[5], ids[4], ids[3], ids[2]])
            #expect(second.documents.map(\.id) == [ids[1], ids[0]])
            #expect(second.nextPageToken == nil)
            #expect(errors.documents.map(\.id) == [ids[5], ids[3], ids[2]])
            #expect(errors.nextPageToken != nil)
        }
    }

    func listFullLastPageHasNoToken() async throws {
        try await withStore { store in
            _ = try await store.addBatch((0..<20).map { ["n": .number(Double($0))] }, to: Self.collection)

            let first = try await store.list(Self.collection, ListQuery(limit: 10))
            let token = try #require(first.nextPageToken)
            let second = try await store.list(Self.collection, ListQuery(limit: 10, pageToken: token))

            #expect(second.documents.count == 10)
            #expect(second.nextPageToken == nil)
        }
    }

    func listFiltersByState() async throws {
        try await withStore { store in
            var errorIDs: [String] = []
            for n in 0..<30 {
                let state: JSONValue = n % 3 == 0 ? "ERROR" : "SUCCESS"
                let document = try await store.add(["n": .number(Double(n)), "delivery": ["state": state]], to: Self.collection, id: nil)
                if state == "ERROR" { errorIDs.append(document.id) }
            }

            var listed: [String] = []
            var pageCount = 0
            var token: String?
            repeat {
                let page = try await store.list(Self.collection, ListQuery(state: "ERROR", limit: 4, pageToken: token))
                listed += page.documents.map(\.id)
                pageCount += 1
                token = page.nextPageToken
            } while token != nil && pageCount < 10

            #expect(listed == errorIDs)
            #expect(pageCount == 3)
            #expect(try await store.list(Self.collection, ListQuery(state: "PENDING")).documents.isEmpty)
        }
    }

    func listRejectsBadQueries() async throws {
        try await withStore { store in
            for limit in [0, 1001] {
                let error = await #expect(throws: DocumentStoreError.self) {
                    try await store.list(Self.collection, ListQuery(limit: limit))
                }
                #expect(error?.kind == .invalidArgument)
                #expect(error?.message == "Invalid limit \(limit): use a number from 1 to 1000.")
            }

            let error = await #expect(throws: DocumentStoreError.self) {
                try await store.list(Self.collection, ListQuery(pageToken: "not-a-token"))
            }
            #expect(error?.kind == .invalidArgument)
            #expect(error?.message == "Invalid page token \"not-a-token\": pass the nextPageToken of the previous page.")
        }
    }

    func countAllAndByState() async throws {
        try await withStore { store in
            let states: [JSONValue?] = ["PENDING", "ERROR", "ERROR", nil, "SUCCESS", "ERROR", nil]
            for state in states {
                let data: JSONObject = state.map { ["delivery": ["state": $0]] } ?? ["delivery": ["attempts": 0]]
                _ = try await store.add(data, to: Self.collection, id: nil)
            }
            _ = try await store.add(["delivery": ["state": "ERROR"]], to: "other", id: nil)

            #expect(try await store.count(Self.collection, state: nil) == 7)
            #expect(try await store.count(Self.collection, state: "ERROR") == 3)
            #expect(try await store.count(Self.collection, state: "PENDING") == 1)
            #expect(try await store.count(Self.collection, state: "RETRY") == 0)
            #expect(try await store.count("empty", state: nil) == 0)
        }
    }

    func countByStateInOneReading() async throws {
        try await withStore { store in
            let states: [JSONValue?] = ["PENDING", "ERROR", "ERROR", nil, "pending", nil, .null]
            for state in states {
                let data: JSONObject = state.map { ["delivery": ["state": $0]] } ?? ["to": "a@example.org"]
                _ = try await store.add(data, to: Self.collection, id: nil)
            }
            _ = try await store.add(["delivery": ["state": "ERROR"]], to: "other", id: nil)

            let counts = try await store.countByState(Self.collection)

            #expect(counts == ["PENDING": 1, "ERROR": 2, "pending": 1, nil: 3])
            #expect(try await store.countByState("empty").isEmpty)
        }
    }

    // MARK: - Update

    func updateReturningNilLeavesDocument() async throws {
        try await withStore { store in
            let original = try await store.add(["delivery": ["state": "SUCCESS"]], to: Self.collection, id: "doc")
            let result = try await store.update("doc", in: Self.collection) { _ in nil }

            #expect(result == original)
            #expect(try await store.get("doc", from: Self.collection) == original)
        }
    }

    func updateSeesCurrentDocument() async throws {
        try await withStore { store in
            let original = try await store.add(["delivery": ["attempts": 1]], to: Self.collection, id: "doc")

            let updated = try await store.update("doc", in: Self.collection) { document in
                let attempts = document.data["delivery"]?[path: "attempts"]?.numberValue ?? 0
                return ["delivery": ["attempts": .number(attempts + 1)]]
            }

            #expect(updated?.data == ["delivery": ["attempts": 2]])
            #expect(updated?.createTime == original.createTime)
            #expect(try await store.get("doc", from: Self.collection) == updated)
        }
    }

    func updateFieldBatchChangesOneField() async throws {
        try await withStore { store in
            let original = try await store.add(["body": "text", "delivery": ["n": 1]], to: Self.collection, id: "a")
            _ = try await store.add(["body": "other"], to: Self.collection, id: "b")
            let increment: @Sendable (JSONValue?) -> JSONValue? = { delivery in
                ["n": .number((delivery?[path: "n"]?.numberValue ?? 0) + 1)]
            }

            let values = try await store.updateFieldBatch(
                "delivery",
                [
                    FieldUpdate(id: "a", change: increment),
                    FieldUpdate(id: "missing", change: increment),
                    FieldUpdate(id: "b", change: { current in current == nil ? "set" : nil }),
                    FieldUpdate(id: "a", change: increment),
                    FieldUpdate(id: "b", change: { _ in nil }),
                ], in: Self.collection)

            #expect(values == [["n": 2], nil, "set", ["n": 3], "set"])
            let a = try await store.get("a", from: Self.collection)
            #expect(a?.data == ["body": "text", "delivery": ["n": 3]])
            #expect(a.map { $0.updateTime > original.updateTime } == true)
            #expect(try await store.get("b", from: Self.collection)?.data == ["body": "other", "delivery": "set"])
            #expect(try await store.get("missing", from: Self.collection) == nil)
            await #expect(throws: DocumentStoreError.self) {
                _ = try await store.updateFieldBatch("a.b", [FieldUpdate(id: "a", change: increment)], in: Self.collection)
            }
        }
    }

    func updateMissingReturnsNil() async throws {
        try await withStore { store in
            let result = try await store.update("missing", in: Self.collection) { _ in ["created": true] }

            #expect(result == nil)
            #expect(try await store.get("missing", from: Self.collection) == nil)
        }
    }

    func updateThrowingLeavesDocument() async throws {
        try await withStore { store in
            let original = try await store.add(["n": 1], to: Self.collection, id: "doc")

            await #expect(throws: ContractCheckError.self) {
                try await store.update("doc", in: Self.collection) { _ in throw ContractCheckError() }
            }
            #expect(try await store.get("doc", from: Self.collection) == original)
        }
    }

    // MARK: - Claim and leases

    func claimTakesReadyDocumentsOldestFirst() async throws {
        try await withStore { store in
            let deliveries: [JSONValue?] = [
                nil, ["state": "SUCCESS"], ["state": "PENDING"], ["state": "PROCESSING"], ["attempts": 1],
                ["state": "RETRY"], ["state": "ERROR"], nil,
            ]
            var ids: [String] = []
            for (n, delivery) in deliveries.enumerated() {
                var data: JSONObject = ["n": .number(Double(n))]
                data["delivery"] = delivery
                ids.append(try await store.add(data, to: Self.collection, id: "doc\(n)").id)
            }

            let first = try await store.claim(from: Self.collection, readyStates: ["PENDING", "RETRY"], limit: 3, Self.markProcessing)
            let second = try await store.claim(from: Self.collection, readyStates: ["PENDING", "RETRY"], limit: 10, Self.markProcessing)
            let third = try await store.claim(from: Self.collection, readyStates: ["PENDING", "RETRY"], limit: 10, Self.markProcessing)

            #expect(first.map(\.id) == ["doc0", "doc2", "doc4"])
            #expect(second.map(\.id) == ["doc5", "doc7"])
            #expect(third.isEmpty)
            #expect(first.allSatisfy { $0.data["delivery"]?[path: "state"] == "PROCESSING" })
            #expect(try await store.get("doc2", from: Self.collection) == first[1])
            #expect(try await store.get("doc1", from: Self.collection)?.data["delivery"] == ["state": "SUCCESS"])
            #expect(try await store.get("doc3", from: Self.collection)?.data["delivery"] == ["state": "PROCESSING"])
            #expect(try await store.get("doc6", from: Self.collection)?.data["delivery"] == ["state": "ERROR"])
        }
    }

    func claimWithoutReadyStatesTakesOnlyNewDocuments() async throws {
        try await withStore { store in
            _ = try await store.add(["delivery": ["state": "PENDING"]], to: Self.collection, id: "pending")
            _ = try await store.add(["to": "ana@example.org"], to: Self.collection, id: "new")

            let claimed = try await store.claim(from: Self.collection, readyStates: [], limit: 10, Self.markProcessing)

            #expect(claimed.map(\.id) == ["new"])
        }
    }

    func claimSkipsWhenChangeReturnsNil() async throws {
        try await withStore { store in
            let skipped = try await store.add(["delivery": ["state": "PENDING", "skip": true]], to: Self.collection, id: "skipped")
            _ = try await store.add(["delivery": ["state": "PENDING"]], to: Self.collection, id: "taken")

            let claimed = try await store.claim(from: Self.collection, readyStates: ["PENDING"], limit: 10) { delivery in
                delivery?[path: "skip"] == true ? nil : Self.markProcessing(delivery)
            }

            #expect(claimed.map(\.id) == ["taken"])
            #expect(try await store.get("skipped", from: Self.collection) == skipped)
        }
    }

    func claimIgnoresOtherCollections() async throws {
        try await withStore { store in
            _ = try await store.add(["to": "ana@example.org"], to: "other", id: "elsewhere")

            let claimed = try await store.claim(from: Self.collection, readyStates: ["PENDING"], limit: 10, Self.markProcessing)

            #expect(claimed.isEmpty)
            #expect(try await store.get("elsewhere", from: "other")?.data == ["to": "ana@example.org"])
        }
    }

    /// Claims 300 documents with 16 concurrent claimers on two store instances of one database.
    /// Each claimer writes its number into what it claims, so a document claimed twice would
    /// show up twice in the results or carry the wrong number.
    func concurrentClaimsTakeEachDocumentOnce() async throws {
        try await withStores(2) { stores in
            let documentCount = 300
            let added = try await stores[0].addBatch(
                (0..<documentCount).map { ["n": .number(Double($0))] }, to: Self.collection)

            let claims = try await withThrowingTaskGroup(of: [(id: String, claimer: Int)].self) { group in
                for claimer in 0..<16 {
                    let store = stores[claimer % stores.count]
                    group.addTask {
                        var claimed: [(id: String, claimer: Int)] = []
                        while true {
                            let batch = try await store.claim(from: Self.collection, readyStates: ["PENDING"], limit: 7) { _ in
                                ["state": "PROCESSING", "claimer": .number(Double(claimer))]
                            }
                            if batch.isEmpty { return claimed }
                            claimed += batch.map { ($0.id, claimer) }
                        }
                    }
                }
                var all: [(id: String, claimer: Int)] = []
                for try await claimed in group { all += claimed }
                return all
            }

            #expect(claims.count == documentCount)
            #expect(Set(claims.map(\.id)) == Set(added.map(\.id)))
            var overwritten: [String] = []
            for claim in claims {
                let stored = try await stores[1].get(claim.id, from: Self.collection)
                if stored?.data["delivery"]?[path: "claimer"] != .number(Double(claim.claimer)) {
                    overwritten.append(claim.id)
                }
            }
            #expect(overwritten == [])
            #expect(try await stores[0].count(Self.collection, state: "PROCESSING") == documentCount)
        }
    }

    func expiredLeasesListsPastAndMissingLeases() async throws {
        try await withStore { store in
            let now = Timestamp(millisecondsSince1970: 1_796_412_101_123)
            let leases: [(id: String, state: String, lease: Timestamp?)] = [
                ("past", "PROCESSING", now.adding(milliseconds: -1)),
                ("future", "PROCESSING", now.adding(milliseconds: 1)),
                ("missing", "PROCESSING", nil),
                ("pending", "PENDING", now.adding(milliseconds: -1_000)),
                ("exactly-now", "PROCESSING", now),
                ("long-past", "PROCESSING", now.adding(.seconds(-60))),
            ]
            for lease in leases {
                var delivery: JSONObject = ["state": .string(lease.state)]
                delivery["leaseExpireTime"] = lease.lease.map { .string($0.description) }
                _ = try await store.add(["delivery": .object(delivery)], to: Self.collection, id: lease.id)
            }
            // A lease that is not a timestamp can never be compared, so it counts as expired.
            _ = try await store.add(["delivery": ["state": "PROCESSING", "leaseExpireTime": "garbage"]], to: Self.collection, id: "garbage")
            _ = try await store.add(["delivery": ["state": "PROCESSING", "leaseExpireTime": 5]], to: Self.collection, id: "number")

            let expired = try await store.expiredLeases(in: Self.collection, at: now, limit: 10)
            let firstTwo = try await store.expiredLeases(in: Self.collection, at: now, limit: 2)

            #expect(expired.map(\.id) == ["past", "missing", "long-past", "garbage", "number"])
            #expect(firstTwo.map(\.id) == ["past", "missing"])
        }
    }

    // MARK: - Changes

    func writeMovesChangeCount() async throws {
        try await withStore { store in
            let beforeAdd = store.changeCount
            _ = try await store.add(["n": 1], to: Self.collection, id: "doc")
            let afterAdd = store.changeCount
            _ = try await store.merge(["n": 2], id: "doc", in: Self.collection)
            let afterMerge = store.changeCount
            _ = try await store.delete("doc", from: Self.collection)
            let afterDelete = store.changeCount

            #expect(afterAdd != beforeAdd)
            #expect(afterMerge != afterAdd)
            #expect(afterDelete != afterMerge)
        }
    }

    func waitForChangeReturnsAtOnceAfterAWrite() async throws {
        try await withStore { store in
            let seen = store.changeCount
            _ = try await store.add(["n": 1], to: Self.collection, id: nil)

            let timeout = TestEnvironment.patience
            let elapsed = await ContinuousClock().measure {
                await store.waitForChange(after: seen, timeout: timeout)
            }
            #expect(elapsed < timeout)
        }
    }

    func waitForChangeTimesOutWithoutWrites() async throws {
        try await withStore { store in
            let seen = store.changeCount
            await store.waitForChange(after: seen, timeout: .milliseconds(50))
            #expect(store.changeCount == seen)
        }
    }

    /// Checks that a write by one instance wakes a waiter on another. The waiting instance is
    /// opened last, so nothing the writer did while opening can wake it. Only the write can.
    func writeByAnotherInstanceWakesWaiter() async throws {
        try await withStores(2) { stores in
            let (writer, waiter) = (stores[0], stores[1])
            let seen = waiter.changeCount
            let timeout = TestEnvironment.patience

            async let elapsed = ContinuousClock().measure {
                await waiter.waitForChange(after: seen, timeout: timeout)
            }
            _ = try await writer.add(["n": 1], to: Self.collection, id: "from-writer")

            #expect(await elapsed < timeout)
            #expect(waiter.changeCount != seen)
            #expect(try await waiter.get("from-writer", from: Self.collection)?.data == ["n": 1])
        }
    }

    // MARK: - Helpers

    /// Marks a claimed document `PROCESSING` with a lease, as the processor does.
    @Sendable static func markProcessing(_ delivery: JSONValue?) -> JSONValue? {
        ["state": "PROCESSING", "leaseExpireTime": "2026-12-04T19:22:41.123Z"]
    }

    /// Claims a document without changing its `delivery`, or with an empty one when it has none.
    @Sendable static func keepDelivery(_ delivery: JSONValue?) -> JSONValue? {
        delivery ?? [:]
    }

    func withStore(_ body: (any DocumentStore) async throws -> Void) async throws {
        try await withStores(1) { stores in try await body(stores[0]) }
    }

    /// Opens `count` store instances on a new database, in order, runs `body`, then closes the
    /// stores, also when `body` throws.
    func withStores(_ count: Int, _ body: ([any DocumentStore]) async throws -> Void) async throws {
        try await withDatabase { database in
            var stores: [any DocumentStore] = []
            do {
                for _ in 0..<count {
                    stores.append(try await database.openStore())
                }
                try await body(stores)
            } catch {
                for store in stores { await store.close() }
                throw error
            }
            for store in stores { await store.close() }
        }
    }

    /// Makes a new database, runs `body` and removes the database, also when `body` throws.
    func withDatabase(_ body: (ContractDatabase) async throws -> Void) async throws {
        let database = try await makeDatabase()
        do {
            try await body(database)
        } catch {
            try? await database.remove()
            throw error
        }
        try await database.remove()
    }
}

/// Thrown by a check's closure to see how the store handles a failing change.
struct ContractCheckError: Error {}
