import BlockingThreads
import DocumentStore
import Foundation
import Logging

/// The shared store: one PostgreSQL database that any number of processes on any number of
/// machines use at once.
///
/// Documents live in `trigger_email.documents` as `jsonb`. Claims lock rows with
/// `FOR UPDATE SKIP LOCKED`, so workers never claim the same document, and a trigger sends a
/// notification on every write, which a listening connection turns into wake-ups. libpq calls
/// run on dedicated threads, one connection each, never on Swift's cooperative pool.
public final class PostgresStore: DocumentStore, @unchecked Sendable {
    /// The URL without its password.
    public let displayURL: String

    private let threads: BlockingThreadPool
    private let connections: PostgresConnectionPool
    private let notifier: ChangeNotifier
    private let listener: PostgresChangeListener
    private let logger: Logger?

    /// How long one statement may take before its connection is dropped.
    static let statementTimeout: Duration = .seconds(30)

    /// Connects to the database at `url` (`postgres://user@host:5432/name`, any libpq connection
    /// URI) and brings its schema up to date. `connectionCount` bounds the connections used for
    /// statements, besides the one that listens for notifications.
    public static func open(url: String, connectionCount: Int = 4, logger: Logger? = nil) async throws -> PostgresStore {
        let displayURL = Self.displayURL(url)
        let threads = BlockingThreadPool(name: "postgres", threadCount: connectionCount)
        let connections = PostgresConnectionPool(url: url, displayURL: displayURL)
        do {
            try await threads.run {
                try connections.withConnection(isRetriable: true) { connection in
                    try PostgresMigration.migrate(connection, timeout: Self.statementTimeout)
                }
            }
        } catch {
            connections.close()
            threads.shutDown()
            throw Self.storeError(error, displayURL: displayURL)
        }

        let notifier = ChangeNotifier()
        let listener: PostgresChangeListener
        do {
            listener = try await threads.run {
                try PostgresChangeListener(url: url, displayURL: displayURL, notifier: notifier, logger: logger)
            }
        } catch {
            connections.close()
            threads.shutDown()
            throw Self.storeError(error, displayURL: displayURL)
        }
        return PostgresStore(
            displayURL: displayURL, threads: threads, connections: connections, notifier: notifier, listener: listener, logger: logger)
    }

    private init(
        displayURL: String, threads: BlockingThreadPool, connections: PostgresConnectionPool, notifier: ChangeNotifier,
        listener: PostgresChangeListener, logger: Logger?
    ) {
        self.displayURL = displayURL
        self.threads = threads
        self.connections = connections
        self.notifier = notifier
        self.listener = listener
        self.logger = logger
    }

    /// Returns `url` with its password replaced by `***`, for messages and logs.
    public static func displayURL(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "the configured PostgreSQL URL" }
        if components.password != nil { components.password = "***" }
        if let items = components.queryItems {
            components.queryItems = items.map { $0.name == "password" ? URLQueryItem(name: "password", value: "***") : $0 }
        }
        return components.string ?? "the configured PostgreSQL URL"
    }

    public func close() async {
        listener.stop()
        let connections = connections
        _ = try? await threads.run { connections.close() }
        threads.shutDown()
    }

    // MARK: - Changes

    public var changeCount: UInt64 { notifier.changeCount }

    public func waitForChange(after seen: UInt64, timeout: Duration) async {
        await notifier.wait(after: seen, timeout: timeout)
    }

    // MARK: - Documents

    public func add(_ data: JSONObject, to collection: String, id: String?) async throws -> Document {
        try DocumentID.validateCollection(collection)
        if let id { try DocumentID.validate(id) }
        let id = id ?? DocumentID.random()
        let json = JSONValue.object(data).serialized()

        // Not retried: after a lost connection the insert may have committed, and a second one
        // would report the document's own ID as taken.
        let times = try await run(isRetriable: false) { connection in
            let result = try connection.query(
                """
                INSERT INTO trigger_email.documents (collection, id, data) VALUES ($1, $2, $3)
                ON CONFLICT DO NOTHING RETURNING \(PostgresRows.timeColumns)
                """,
                [collection, id, json], timeout: Self.statementTimeout)
            return result.rowCount == 1 ? PostgresRows.times(result, row: 0, firstColumn: 0) : nil
        }
        guard let times else {
            throw DocumentStoreError(.alreadyExists, "A document with ID \(id) already exists in \(collection); choose another ID.")
        }
        notifier.notify()
        return Document(id: id, collection: collection, createTime: times.create, updateTime: times.update, data: data)
    }

    public func addBatch(_ batch: [JSONObject], to collection: String) async throws -> [Document] {
        try DocumentID.validateCollection(collection)
        guard !batch.isEmpty else { return [] }
        let ids = batch.map { _ in DocumentID.random() }
        let jsonTexts = batch.map { JSONValue.object($0).serialized() }

        // One transaction, in statements of 1,000 documents, so that no single statement
        // carries an unbounded parameter or runs into the statement timeout.
        let times = try await transaction { connection in
            var times: [String: (create: Timestamp, update: Timestamp)] = [:]
            for start in stride(from: 0, to: ids.count, by: 1000) {
                let range = start..<min(start + 1000, ids.count)
                let result = try connection.query(
                    """
                    INSERT INTO trigger_email.documents (collection, id, data)
                    SELECT $1, new.id, new.data FROM unnest($2::text[], $3::jsonb[]) WITH ORDINALITY AS new(id, data, position)
                    ORDER BY new.position
                    RETURNING id, \(PostgresRows.timeColumns)
                    """,
                    [collection, PostgresArray.literal(Array(ids[range])), PostgresArray.literal(Array(jsonTexts[range]))],
                    timeout: Self.statementTimeout)
                for row in 0..<result.rowCount {
                    times[result.text(row, 0)] = PostgresRows.times(result, row: row, firstColumn: 1)
                }
            }
            return times
        }
        notifier.notify()
        return zip(ids, batch).map { id, data in
            let time = times[id] ?? (Timestamp.now(), Timestamp.now())
            return Document(id: id, collection: collection, createTime: time.create, updateTime: time.update, data: data)
        }
    }

    public func get(_ id: String, from collection: String) async throws -> Document? {
        try await run(isRetriable: true) { connection in
            try PostgresRows.select(
                "WHERE collection = $1 AND id = $2", [collection, id], collection: collection, on: connection, standsIn: true
            ).first?.document
        }
    }

    public func set(_ data: JSONObject, id: String, in collection: String) async throws -> Document {
        try DocumentID.validateCollection(collection)
        try DocumentID.validate(id)
        let json = JSONValue.object(data).serialized()

        // Retried after a lost connection: setting the same fields twice leaves the same document.
        let times = try await run(isRetriable: true) { connection in
            let result = try connection.query(
                """
                INSERT INTO trigger_email.documents AS existing (collection, id, data) VALUES ($1, $2, $3)
                ON CONFLICT (collection, id) DO UPDATE SET data = EXCLUDED.data, update_time = \(PostgresRows.nextUpdateTime)
                RETURNING \(PostgresRows.timeColumns)
                """,
                [collection, id, json], timeout: Self.statementTimeout)
            return PostgresRows.times(result, row: 0, firstColumn: 0)
        }
        notifier.notify()
        return Document(id: id, collection: collection, createTime: times.create, updateTime: times.update, data: data)
    }

    public func delete(_ id: String, from collection: String) async throws -> Bool {
        let deleted = try await run(isRetriable: false) { connection in
            try connection.query(
                "DELETE FROM trigger_email.documents WHERE collection = $1 AND id = $2",
                [collection, id], timeout: Self.statementTimeout
            ).changedRowCount == 1
        }
        if deleted { notifier.notify() }
        return deleted
    }

    public func list(_ collection: String, _ query: ListQuery) async throws -> DocumentPage {
        let bound = try query.sequenceBound()
        let (comparison, order) = query.newestFirst ? ("<", "DESC") : (">", "ASC")
        return try await run(isRetriable: true) { connection in
            var condition = "WHERE collection = $1 AND sequence \(comparison) $2"
            var parameters: [String?] = [collection, String(bound), String(query.limit + 1)]
            if let state = query.state {
                condition += " AND delivery_state = $4"
                parameters.append(state)
            }
            var rows = try PostgresRows.select(
                "\(condition) ORDER BY sequence \(order) LIMIT $3", parameters, collection: collection, on: connection, standsIn: true)

            var nextPageToken: String?
            if rows.count > query.limit {
                rows.removeLast()
                nextPageToken = rows.last.map { String($0.sequence) }
            }
            return DocumentPage(documents: rows.map(\.document), nextPageToken: nextPageToken)
        }
    }

    public func count(_ collection: String, state: String?) async throws -> Int {
        try await run(isRetriable: true) { connection in
            let result = if let state {
                try connection.query(
                    "SELECT count(*) FROM trigger_email.documents WHERE collection = $1 AND delivery_state = $2",
                    [collection, state], timeout: Self.statementTimeout)
            } else {
                try connection.query(
                    "SELECT count(*) FROM trigger_email.documents WHERE collection = $1", [collection], timeout: Self.statementTimeout)
            }
            return Int(result.int64(0, 0))
        }
    }

    public func countByState(_ collection: String) async throws -> [String?: Int] {
        try await run(isRetriable: true) { connection in
            let result = try connection.query(
                "SELECT delivery_state, count(*) FROM trigger_email.documents WHERE collection = $1 GROUP BY delivery_state",
                [collection], timeout: Self.statementTimeout)
            var counts: [String?: Int] = [:]
            for row in 0..<result.rowCount {
                let state = result.isNull(row, 0) ? nil : result.text(row, 0)
                counts[state, default: 0] += Int(result.int64(row, 1))
            }
            return counts
        }
    }

    public func update(
        _ id: String, in collection: String, _ change: @escaping @Sendable (Document) throws -> JSONObject?
    ) async throws -> Document? {
        let (document, changed) = try await transaction { connection -> (Document?, Bool) in
            guard let existing = try PostgresRows.select(
                "WHERE collection = $1 AND id = $2 FOR UPDATE", [collection, id], collection: collection, on: connection
            ).first?.document else {
                return (nil, false)
            }
            guard let newData = try change(existing) else { return (existing, false) }
            return (try PostgresRows.write([(existing, newData)], on: connection)[0], true)
        }
        if changed { notifier.notify() }
        return document
    }

    public func updateFieldBatch(_ field: String, _ updates: [FieldUpdate], in collection: String) async throws -> [JSONValue?] {
        try FieldChange.validateFieldName(field)
        guard !updates.isEmpty else { return [] }
        let ids = Array(Set(updates.map(\.id))).sorted()

        let (values, changed) = try await transaction { connection -> ([JSONValue?], Bool) in
            // Locking in ID order keeps two batches that share documents from deadlocking.
            let current = try PostgresRows.selectField(field, of: ids, in: collection, on: connection)
            var fieldValues = current
            var written: [String: JSONValue] = [:]
            var values: [JSONValue?] = []
            for update in updates {
                guard let value = fieldValues[update.id] else {
                    values.append(nil)
                    continue
                }
                guard let newValue = update.change(value) else {
                    values.append(value)
                    continue
                }
                fieldValues[update.id] = newValue
                written[update.id] = newValue
                values.append(newValue)
            }
            try PostgresRows.writeField(field, written, in: collection, on: connection)
            return (values, !written.isEmpty)
        }
        if changed { notifier.notify() }
        return values
    }

    public func claim(
        from collection: String, readyStates: [String], limit: Int,
        _ changeDelivery: @escaping @Sendable (JSONValue?) -> JSONValue?
    ) async throws -> [Document] {
        let (claimed, ended) = try await transaction { connection -> ([Document], [(id: String, error: String)]) in
            // The partial index serves the query only when its states are written into the
            // SQL text, as the index definition has them.
            let usesReadyIndex = readyStates.sorted() == PostgresSchema.indexedReadyStates
            let stateCondition = usesReadyIndex
                ? "delivery_state IN (\(PostgresSchema.indexedReadyStates.map { "'\($0)'" }.joined(separator: ", ")))"
                : "delivery_state = ANY($3::text[])"
            var parameters: [String?] = [collection, String(limit)]
            if !usesReadyIndex { parameters.append(PostgresArray.literal(readyStates)) }

            var unreadable: [(id: String, error: String)] = []
            let candidates = try PostgresRows.select(
                """
                WHERE collection = $1 AND (delivery_state IS NULL OR \(stateCondition))
                ORDER BY sequence LIMIT $2 FOR UPDATE SKIP LOCKED
                """,
                parameters, collection: collection, on: connection, unreadable: &unreadable)
            try Self.endUnreadable(unreadable, in: collection, on: connection)
            let changes = candidates.compactMap { row -> (Document, JSONObject)? in
                guard let delivery = changeDelivery(row.document.data["delivery"]) else { return nil }
                var data = row.document.data
                data["delivery"] = delivery
                return (row.document, data)
            }
            return (try PostgresRows.write(changes, on: connection), unreadable)
        }
        logEnded(ended, in: collection)
        if !claimed.isEmpty { notifier.notify() }
        return claimed
    }

    /// Ends documents that PostgreSQL accepted but this service cannot read as `ERROR` (see
    /// `UnreadableDocument`). Only `delivery` is written; the rest stays as it was inserted. The
    /// attempt count and start time already in the document's `delivery` carry over.
    private static func endUnreadable(_ unreadable: [(id: String, error: String)], in collection: String, on connection: PostgresConnection) throws {
        guard !unreadable.isEmpty else { return }
        let now = Timestamp.now()
        let deliveries = unreadable.map { UnreadableDocument.delivery(reason: $0.error, at: now).serialized() }
        _ = try connection.query(
            """
            UPDATE trigger_email.documents AS existing SET data = jsonb_set(existing.data, '{delivery}', new.value || jsonb_strip_nulls(
                    jsonb_build_object(
                        'attempts', CASE WHEN jsonb_typeof(existing.data #> '{delivery,attempts}') = 'number' THEN existing.data #> '{delivery,attempts}' END,
                        'startTime', CASE WHEN jsonb_typeof(existing.data #> '{delivery,startTime}') = 'string' THEN existing.data #> '{delivery,startTime}' END))),
                update_time = \(PostgresRows.nextUpdateTime)
            FROM unnest($2::text[], $3::jsonb[]) AS new(id, value)
            WHERE existing.collection = $1 AND existing.id = new.id
            """,
            [collection, PostgresArray.literal(unreadable.map(\.id)), PostgresArray.literal(deliveries)], timeout: statementTimeout)
    }

    public func expiredLeases(in collection: String, at now: Timestamp, limit: Int) async throws -> [Document] {
        // No processor can send a claimed document that cannot be read, so it ends as `ERROR`
        // here instead of failing every sweep.
        let (expired, ended) = try await transaction { connection in
            var unreadable: [(id: String, error: String)] = []
            let expired = try PostgresRows.select(
                """
                WHERE collection = $1 AND delivery_state = 'PROCESSING'
                AND (lease_expire_time IS NULL OR lease_expire_time < $2
                     OR lease_expire_time !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$')
                ORDER BY sequence LIMIT $3
                """,
                [collection, now.description, String(limit)], collection: collection, on: connection, unreadable: &unreadable)
            try Self.endUnreadable(unreadable, in: collection, on: connection)
            return (expired.map(\.document), unreadable)
        }
        logEnded(ended, in: collection)
        return expired
    }

    private func logEnded(_ unreadable: [(id: String, error: String)], in collection: String) {
        for row in unreadable {
            logger?.warning("document cannot be read; ended as ERROR", ["mail.collection": collection, "mail.id": row.id, "error": row.error])
        }
    }

    // MARK: - Threads and connections

    /// Runs `work` in one transaction. A transaction whose `BEGIN` failed on a lost connection
    /// ran nothing, so it is retried once on a new connection.
    private func transaction<Result: Sendable>(_ work: @escaping @Sendable (PostgresConnection) throws -> Result) async throws -> Result {
        try await run(isRetriable: true) { connection in
            try connection.query("BEGIN", timeout: Self.statementTimeout)
            do {
                let result = try work(connection)
                try connection.query("COMMIT", timeout: Self.statementTimeout)
                return result
            } catch {
                if !connection.isBroken { _ = try? connection.query("ROLLBACK", timeout: Self.statementTimeout) }
                throw error
            }
        }
    }

    /// Runs `work` on a store thread with a connection. With `isRetriable`, a connection failure
    /// on the first statement is retried once on a new connection: pooled connections go stale
    /// when the server restarts, and only the first statement finds out.
    private func run<Result: Sendable>(
        isRetriable: Bool, _ work: @escaping @Sendable (PostgresConnection) throws -> Result
    ) async throws -> Result {
        let connections = connections
        do {
            return try await threads.run {
                try connections.withConnection(isRetriable: isRetriable, work)
            }
        } catch {
            throw Self.storeError(error, displayURL: displayURL)
        }
    }

    private static func storeError(_ error: any Error, displayURL: String) -> any Error {
        switch error {
        case let error as PostgresError where error.sqlState == "22P05" || error.sqlState == "22021":
            return DocumentStoreError(
                .invalidArgument,
                "PostgreSQL cannot store this document: \(error.message). jsonb has no room for the character U+0000; remove it from the document.")
        case let error as PostgresError:
            return DocumentStoreError(.storage, error.message)
        case is BlockingThreadPoolShutDownError:
            return DocumentStoreError(.storage, "The PostgreSQL store \(displayURL) is closed.")
        default:
            return error
        }
    }
}
