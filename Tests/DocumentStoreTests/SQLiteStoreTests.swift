import DocumentStore
import Foundation
import SQLiteStore
import TestSupport
import Testing

/// What only SQLite does; the shared behavior is in `DocumentStoreContractTests`.
@Suite("SQLiteStore")
struct SQLiteStoreTests {
    static let contract = StoreBackend.sqlite.contract

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
