import DocumentStore
import Foundation
import Logging
import SMTP
import SQLiteStore
import TestSupport
import Testing
import TriggerEmail

/// A processor running in this process on a fresh SQLite file, sending to a given transport,
/// with helpers to add documents and wait for their outcome.
final class DeliveryHarness: @unchecked Sendable {
    let directory: URL
    let store: SQLiteStore
    let queue: MailQueue
    let logs = InMemoryLogHandler()
    private var processing: Task<Void, Never>?

    init(transport: (Logger) throws -> any MailTransport, settings: MailProcessor.Settings = MailProcessor.Settings()) async throws {
        directory = try TestEnvironment.makeTemporaryDirectory()
        store = try await SQLiteStore.open(path: directory.appendingPathComponent("mail.db").path)
        queue = MailQueue(store: store, mailCollection: settings.mailCollection)

        let logger = Logger(label: "test", level: .debug, handler: logs)
        let processor = MailProcessor(store: store, transport: try transport(logger), settings: settings, logger: logger)
        processing = Task { await processor.run() }
    }

    /// A harness sending to `server` with the given connection settings.
    static func sending(
        to server: SMTPTestServer, security: SMTPServerConfiguration.Security = .startTLSWhenOffered,
        credentials: Credentials? = nil, tls: TLSConfiguration? = nil, settings: MailProcessor.Settings = MailProcessor.Settings()
    ) async throws -> DeliveryHarness {
        let configuration = SMTPServerConfiguration(
            host: "127.0.0.1", port: server.port, security: security,
            tls: tls ?? TLSConfiguration(caFile: server.caFile), authentication: credentials.map(SMTPAuthentication.password))
        return try await DeliveryHarness(
            transport: { logger in
                SMTPTransport(client: try SMTPClient(configuration: configuration, maxConnections: 2, logger: logger))
            }, settings: settings)
    }

    func stop() async {
        processing?.cancel()
        await processing?.value
        await store.close()
    }

    func add(_ fields: JSONObject) async throws -> String {
        try await queue.add(fields).id
    }

    /// Waits until the document's `delivery.state` is one of `states` and returns its fields.
    func waitForState(_ id: String, _ states: Set<String> = ["SUCCESS", "ERROR"], timeout: Duration = TestEnvironment.patience) async throws -> JSONObject {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let seen = store.changeCount
            let document = try await store.get(id, from: "mail")
            if let data = document?.data, let state = data["delivery"]?[path: "state"]?.stringValue, states.contains(state) {
                return data
            }
            guard ContinuousClock.now < deadline else {
                throw TestEnvironmentError("document \(id) did not reach \(states.sorted()) within \(timeout); it is \(document?.data["delivery"].map { $0.serialized() } ?? "missing")")
            }
            await store.waitForChange(after: seen, timeout: .milliseconds(200))
        }
    }
}

extension JSONValue {
    /// The strings of an array value, for comparing `info.accepted` and the like.
    var strings: [String]? {
        arrayValue?.compactMap(\.stringValue)
    }
}

enum SQLiteStoreOpener {
    static func open(_ directory: URL) async throws -> SQLiteStore {
        try await SQLiteStore.open(path: directory.appendingPathComponent("mail.db").path)
    }
}
