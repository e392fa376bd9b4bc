import DocumentStore
import Foundation
import PostgresStore
import SQLiteStore
import TestSupport
import Testing

/// The stores that the contract runs against, each on a new, empty database per check.
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    var contract: DocumentStoreContract {
        switch self {
        case .sqlite:
            DocumentStoreContract {
                let directory = try TestEnvironment.makeTemporaryDirectory()
                let path = directory.appendingPathComponent("trigger-email.db").path
                return ContractDatabase(
                    openStore: { try await SQLiteStore.open(path: path) },
                    remove: { try FileManager.default.removeItem(at: directory) })
            }
        case .postgres:
            DocumentStoreContract {
                let server = try await PostgresServer.shared()
                let url = try await server.createDatabase()
                return ContractDatabase(
                    openStore: { try await PostgresStore.open(url: url) },
                    remove: { try await server.dropDatabase(url: url) })
            }
        }
    }
}

/// One suite, every store: each check of `DocumentStoreContract` runs once per backend.
@Suite("DocumentStore contract")
struct DocumentStoreContractTests {
    @Test("add then get", arguments: StoreBackend.allCases)
    func addThenGet(_ backend: StoreBackend) async throws { try await backend.contract.addThenGet() }

    @Test("add without ID", arguments: StoreBackend.allCases)
    func addWithoutID(_ backend: StoreBackend) async throws { try await backend.contract.addWithoutIDMakesRandomID() }

    @Test("add with a taken ID", arguments: StoreBackend.allCases)
    func addTakenID(_ backend: StoreBackend) async throws { try await backend.contract.addTakenIDThrowsAlreadyExists() }

    @Test("add with an invalid ID", arguments: StoreBackend.allCases)
    func addInvalidID(_ backend: StoreBackend) async throws { try await backend.contract.addInvalidIDThrowsInvalidArgument() }

    @Test("get a missing document", arguments: StoreBackend.allCases)
    func getMissing(_ backend: StoreBackend) async throws { try await backend.contract.getMissingReturnsNil() }

    @Test("collections are separate", arguments: StoreBackend.allCases)
    func collections(_ backend: StoreBackend) async throws { try await backend.contract.collectionsAreSeparate() }

    @Test("addBatch keeps order", arguments: StoreBackend.allCases)
    func addBatch(_ backend: StoreBackend) async throws { try await backend.contract.addBatchKeepsOrder() }

    @Test("set creates then replaces", arguments: StoreBackend.allCases)
    func set(_ backend: StoreBackend) async throws { try await backend.contract.setCreatesThenReplaces() }

    @Test("merge applies the patch", arguments: StoreBackend.allCases)
    func merge(_ backend: StoreBackend) async throws { try await backend.contract.mergeAppliesPatch() }

    @Test("merge a missing document", arguments: StoreBackend.allCases)
    func mergeMissing(_ backend: StoreBackend) async throws { try await backend.contract.mergeMissingThrowsNotFound() }

    @Test("delete removes once", arguments: StoreBackend.allCases)
    func delete(_ backend: StoreBackend) async throws { try await backend.contract.deleteRemovesOnce() }

    @Test("updateTime moves on every write", arguments: StoreBackend.allCases)
    func updateTime(_ backend: StoreBackend) async throws { try await backend.contract.updateTimeMovesOnEveryWrite() }

    @Test("documents survive reopening", arguments: StoreBackend.allCases)
    func reopen(_ backend: StoreBackend) async throws { try await backend.contract.documentsSurviveReopening() }

    @Test("closed store rejects calls", arguments: StoreBackend.allCases)
    func closed(_ backend: StoreBackend) async throws { try await backend.contract.closedStoreRejectsCalls() }

    @Test("list pages in add order", arguments: StoreBackend.allCases)
    func listPages(_ backend: StoreBackend) async throws { try await backend.contract.listPagesInAddOrder() }

    @Test("list newest first", arguments: StoreBackend.allCases)
    func listNewestFirst(_ backend: StoreBackend) async throws { try await backend.contract.listNewestFirstPages() }

    @Test("list full last page", arguments: StoreBackend.allCases)
    func listFullLastPage(_ backend: StoreBackend) async throws { try await backend.contract.listFullLastPageHasNoToken() }

    @Test("list by state", arguments: StoreBackend.allCases)
    func listByState(_ backend: StoreBackend) async throws { try await backend.contract.listFiltersByState() }

    @Test("list rejects bad queries", arguments: StoreBackend.allCases)
    func listBadQueries(_ backend: StoreBackend) async throws { try await backend.contract.listRejectsBadQueries() }

    @Test("count all and by state", arguments: StoreBackend.allCases)
    func count(_ backend: StoreBackend) async throws { try await backend.contract.countAllAndByState() }

    @Test("count by state in one reading", arguments: StoreBackend.allCases)
    func countByState(_ backend: StoreBackend) async throws { try await backend.contract.countByStateInOneReading() }

    @Test("update returning nil", arguments: StoreBackend.allCases)
    func updateNil(_ backend: StoreBackend) async throws { try await backend.contract.updateReturningNilLeavesDocument() }

    @Test("update sees the current document", arguments: StoreBackend.allCases)
    func updateCurrent(_ backend: StoreBackend) async throws { try await backend.contract.updateSeesCurrentDocument() }

    @Test("updateFieldBatch changes one field", arguments: StoreBackend.allCases)
    func updateFieldBatch(_ backend: StoreBackend) async throws { try await backend.contract.updateFieldBatchChangesOneField() }

    @Test("update a missing document", arguments: StoreBackend.allCases)
    func updateMissing(_ backend: StoreBackend) async throws { try await backend.contract.updateMissingReturnsNil() }

    @Test("update closure throws", arguments: StoreBackend.allCases)
    func updateThrows(_ backend: StoreBackend) async throws { try await backend.contract.updateThrowingLeavesDocument() }

    @Test("claim oldest ready first", arguments: StoreBackend.allCases)
    func claim(_ backend: StoreBackend) async throws { try await backend.contract.claimTakesReadyDocumentsOldestFirst() }

    @Test("claim without ready states", arguments: StoreBackend.allCases)
    func claimNoStates(_ backend: StoreBackend) async throws { try await backend.contract.claimWithoutReadyStatesTakesOnlyNewDocuments() }

    @Test("claim skips on nil change", arguments: StoreBackend.allCases)
    func claimSkips(_ backend: StoreBackend) async throws { try await backend.contract.claimSkipsWhenChangeReturnsNil() }

    @Test("claim one collection only", arguments: StoreBackend.allCases)
    func claimCollection(_ backend: StoreBackend) async throws { try await backend.contract.claimIgnoresOtherCollections() }

    @Test("concurrent claims by two instances", arguments: StoreBackend.allCases)
    func concurrentClaims(_ backend: StoreBackend) async throws { try await backend.contract.concurrentClaimsTakeEachDocumentOnce() }

    @Test("expired leases", arguments: StoreBackend.allCases)
    func expiredLeases(_ backend: StoreBackend) async throws { try await backend.contract.expiredLeasesListsPastAndMissingLeases() }

    @Test("write moves changeCount", arguments: StoreBackend.allCases)
    func changeCount(_ backend: StoreBackend) async throws { try await backend.contract.writeMovesChangeCount() }

    @Test("waitForChange after a write", arguments: StoreBackend.allCases)
    func waitAfterWrite(_ backend: StoreBackend) async throws { try await backend.contract.waitForChangeReturnsAtOnceAfterAWrite() }

    @Test("waitForChange timeout", arguments: StoreBackend.allCases)
    func waitTimeout(_ backend: StoreBackend) async throws { try await backend.contract.waitForChangeTimesOutWithoutWrites() }

    @Test("write by another instance wakes", arguments: StoreBackend.allCases)
    func crossInstanceWake(_ backend: StoreBackend) async throws { try await backend.contract.writeByAnotherInstanceWakesWaiter() }
}
