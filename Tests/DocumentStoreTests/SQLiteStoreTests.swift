import DocumentStore
import Foundation
import SQLiteStore
import TestSupport
import Testing

/// The store contract against real SQLite files, one new file in a temporary folder per test.
@Suite("SQLiteStore")
struct SQLiteStoreTests {
    static let contract = DocumentStoreContract {
        let directory = try TestEnvironment.makeTemporaryDirectory()
        let path = directory.appendingPathComponent("trigger-email.db").path
        return ContractDatabase(
            openStore: { try await SQLiteStore.open(path: path) },
            remove: { try FileManager.default.removeItem(at: directory) })
    }

    @Test("add then get") func addThenGet() async throws { try await Self.contract.addThenGet() }
    @Test("add without ID") func addWithoutID() async throws { try await Self.contract.addWithoutIDMakesRandomID() }
    @Test("add with a taken ID") func addTakenID() async throws { try await Self.contract.addTakenIDThrowsAlreadyExists() }
    @Test("add with an invalid ID") func addInvalidID() async throws { try await Self.contract.addInvalidIDThrowsInvalidArgument() }
    @Test("get a missing document") func getMissing() async throws { try await Self.contract.getMissingReturnsNil() }
    @Test("collections are separate") func collections() async throws { try await Self.contract.collectionsAreSeparate() }
    @Test("addBatch keeps order") func addBatch() async throws { try await Self.contract.addBatchKeepsOrder() }
    @Test("set creates then replaces") func set() async throws { try await Self.contract.setCreatesThenReplaces() }
    @Test("merge applies the patch") func merge() async throws { try await Self.contract.mergeAppliesPatch() }
    @Test("merge a missing document") func mergeMissing() async throws { try await Self.contract.mergeMissingThrowsNotFound() }
    @Test("delete removes once") func delete() async throws { try await Self.contract.deleteRemovesOnce() }
    @Test("updateTime moves on every write") func updateTime() async throws { try await Self.contract.updateTimeMovesOnEveryWrite() }
    @Test("documents survive reopening") func reopen() async throws { try await Self.contract.documentsSurviveReopening() }
    @Test("closed store rejects calls") func closed() async throws { try await Self.contract.closedStoreRejectsCalls() }

    @Test("list pages in add order") func listPages() async throws { try await Self.contract.listPagesInAddOrder() }
    @Test("list full last page") func listFullLastPage() async throws { try await Self.contract.listFullLastPageHasNoToken() }
    @Test("list by state") func listByState() async throws { try await Self.contract.listFiltersByState() }
    @Test("list rejects bad queries") func listBadQueries() async throws { try await Self.contract.listRejectsBadQueries() }
    @Test("count all and by state") func count() async throws { try await Self.contract.countAllAndByState() }

    @Test("update returning nil") func updateNil() async throws { try await Self.contract.updateReturningNilLeavesDocument() }
    @Test("update sees the current document") func updateCurrent() async throws { try await Self.contract.updateSeesCurrentDocument() }
    @Test("updateFieldBatch changes one field") func updateFieldBatch() async throws { try await Self.contract.updateFieldBatchChangesOneField() }
    @Test("update a missing document") func updateMissing() async throws { try await Self.contract.updateMissingReturnsNil() }
    @Test("update closure throws") func updateThrows() async throws { try await Self.contract.updateThrowingLeavesDocument() }

    @Test("claim oldest ready first") func claim() async throws { try await Self.contract.claimTakesReadyDocumentsOldestFirst() }
    @Test("claim without ready states") func claimNoStates() async throws { try await Self.contract.claimWithoutReadyStatesTakesOnlyNewDocuments() }
    @Test("claim skips on nil change") func claimSkips() async throws { try await Self.contract.claimSkipsWhenChangeReturnsNil() }
    @Test("claim one collection only") func claimCollection() async throws { try await Self.contract.claimIgnoresOtherCollections() }
    @Test("concurrent claims by two instances") func concurrentClaims() async throws { try await Self.contract.concurrentClaimsTakeEachDocumentOnce() }
    @Test("expired leases") func expiredLeases() async throws { try await Self.contract.expiredLeasesListsPastAndMissingLeases() }

    @Test("write moves changeCount") func changeCount() async throws { try await Self.contract.writeMovesChangeCount() }
    @Test("waitForChange after a write") func waitAfterWrite() async throws { try await Self.contract.waitForChangeReturnsAtOnceAfterAWrite() }
    @Test("waitForChange timeout") func waitTimeout() async throws { try await Self.contract.waitForChangeTimesOutWithoutWrites() }
    @Test("write by another instance wakes") func crossInstanceWake() async throws { try await Self.contract.writeByAnotherInstanceWakesWaiter() }

    // MARK: - SQLite only

    @Test("WAL file exists after a write")
    func walMode() async throws {
        try await Self.contract.withStore { store in
            let sqlite = try #require(store as? SQLiteStore)
            _ = try await store.add(["n": 1], to: DocumentStoreContract.collection, id: nil)

            #expect(FileManager.default.fileExists(atPath: sqlite.path + "-wal"))
        }
    }

    @Test("open in a missing folder fails")
    func openMissingFolder() async throws {
        let directory = try TestEnvironment.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("missing/trigger-email.db").path

        let error = await #expect(throws: DocumentStoreError.self) { try await SQLiteStore.open(path: path) }
        #expect(error?.kind == .storage)
        #expect(
            error?.message
                == "Cannot open the SQLite database \(path): SQLite failed to open the database file \(path): unable to open database file (code 14).")
    }
}
