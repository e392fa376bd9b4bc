import BlockingThreads
import DocumentStore
import Foundation
import Logging

/// The embedded store: one SQLite file in WAL mode, so readers never wait for the writer and
/// several processes (`serve` and `trigger-email add`, say) can share it.
///
/// All SQLite calls run on one dedicated thread, never on Swift's cooperative pool. A second
/// thread watches `PRAGMA data_version` so that writes by other processes wake the processor.
public final class SQLiteStore: DocumentStore, @unchecked Sendable {
    /// The path of the database file.
    public let path: String

    private let thread: BlockingThreadPool
    // Touched only on `thread`.
    private let connection: SQLiteConnection
    private let readers: SQLiteReaders
    private let notifier: ChangeNotifier
    private let watcher: SQLiteChangeWatcher
    private let logger: Logger?

    /// Opens the database at `path` and brings its schema up to date.
    ///
    /// With `create` false, a missing file is an error instead of a new empty database, so that a
    /// mistyped `DATABASE_URL` cannot make `list` or `get` report an empty queue.
    /// `busyTimeout` bounds how long a write waits while another process holds the write lock.
    public static func open(
        path: String, create: Bool = true, busyTimeout: Duration = .seconds(10), logger: Logger? = nil
    ) async throws -> SQLiteStore {
        let thread = BlockingThreadPool(name: "sqlite", threadCount: 1)
        let notifier = ChangeNotifier()
        do {
            let opened = try await thread.run {
                guard create || FileManager.default.fileExists(atPath: path) else {
                    throw DocumentStoreError(.notFound, "There is no database file at \(path): check DATABASE_URL, or add a document first to create it.")
                }
                let connection = try SQLiteConnection(path: path, busyTimeout: busyTimeout)
                try SQLiteStore.configure(connection, path: path, busyTimeout: busyTimeout)
                let watcher = try SQLiteChangeWatcher(path: path, notifier: notifier)
                return UncheckedSendable((connection, watcher))
            }
            let readers = SQLiteReaders(path: path, busyTimeout: busyTimeout, threadCount: 2)
            return SQLiteStore(
                path: path, thread: thread, connection: opened.value.0, readers: readers, watcher: opened.value.1, notifier: notifier,
                logger: logger)
        } catch let error as DocumentStoreError {
            thread.shutDown()
            throw error
        } catch {
            thread.shutDown()
            throw DocumentStoreError(.storage, "Cannot open the SQLite database \(path): \(error)")
        }
    }

    private init(
        path: String, thread: BlockingThreadPool, connection: SQLiteConnection, readers: SQLiteReaders, watcher: SQLiteChangeWatcher,
        notifier: ChangeNotifier, logger: Logger?
    ) {
        self.path = path
        self.thread = thread
        self.connection = connection
        self.readers = readers
        self.watcher = watcher
        self.notifier = notifier
        self.logger = logger
    }

    private static func configure(_ connection: SQLiteConnection, path: String, busyTimeout: Duration) throws {
        try connection.execute("PRAGMA page_size = 8192")
        // Two programs may open a new file at once. While one writes to a file not yet in WAL
        // mode, SQLite fails the other's switch to WAL without calling the busy handler, so the
        // switch is tried again until the busy timeout.
        let deadline = ContinuousClock.now.advanced(by: busyTimeout)
        while true {
            do {
                try connection.execute("PRAGMA journal_mode = WAL")
                break
            } catch let error as SQLiteError where error.isBusy && ContinuousClock.now < deadline {
                usleep(1000)
            }
        }
        // In WAL mode, NORMAL loses no committed transaction when a process crashes. A power
        // loss can undo the last transactions, and a later attempt then repeats them.
        try connection.execute("PRAGMA synchronous = NORMAL")
        try migrate(connection, path: path)
    }

    /// Brings the schema up to date. The version is read first without a lock, so opening an
    /// up-to-date database (every `list` and `get`) takes no write lock and so does not queue behind
    /// another process's write transaction.
    private static func migrate(_ connection: SQLiteConnection, path: String) throws {
        let found = try schemaVersion(connection)
        guard found != SQLiteSchema.version else { return }
        try checkNoOtherProcess(before: found, path: path)

        try connection.inWriteTransaction {
            let current = try schemaVersion(connection)

            guard current <= SQLiteSchema.version else {
                throw DocumentStoreError(
                    .storage,
                    "The database was written by a newer trigger-email (schema \(current), this one knows \(SQLiteSchema.version)); upgrade trigger-email.")
            }
            for (offset, migration) in SQLiteSchema.migrations[current...].enumerated() {
                do {
                    try connection.execute(migration)
                } catch var error as SQLiteError {
                    // The SQL of a migration is dozens of lines, too long for an error message.
                    error.operation = "convert the database to schema \(current + offset + 1)"
                    throw error
                }
            }
            try connection.execute("PRAGMA user_version = \(SQLiteSchema.version)")
        }
        // Version 4 copies the whole table through the WAL, which would otherwise keep the
        // size of the copy on disk until the last connection closes.
        try connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    /// Throws when another process has the file open and the conversion moves `delivery` out of
    /// `data` (version 4), because an older worker that kept running would send mail it cannot
    /// record. A new file, version 0, is not checked.
    private static func checkNoOtherProcess(before version: Int, path: String) throws {
        guard version > 0, version < SQLiteSchema.firstVersionOlderProcessesCannotUse else { return }

        let others = OtherProcessesWithFile(databasePath: path).holders
        guard others.isEmpty else {
            let list = others.map(\.description).joined(separator: ", ")
            throw DocumentStoreError(
                .storage,
                """
                The database \(path) needs converting from schema \(version) to \(SQLiteSchema.version), and older versions of \
                trigger-email cannot use the converted file, but \(list) has it open. Stop every process that uses the file, \
                then start this version again.
                """)
        }
    }

    private static func schemaVersion(_ connection: SQLiteConnection) throws -> Int {
        let statement = try connection.prepare("PRAGMA user_version")
        _ = try statement.step()
        let version = Int(statement.int64(at: 0))
        statement.reset()
        return version
    }

    public func close() async {
        watcher.stop()
        await readers.close()
        _ = try? await onThread { connection in connection.close() }
        thread.shutDown()
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

        let document = try await onThread { connection in
            try connection.inWriteTransaction {
                try Self.insert(data, id: id ?? DocumentID.random(), collection: collection, into: connection)
            }
        }
        notifier.notify()
        return document
    }

    public func addBatch(_ batch: [JSONObject], to collection: String) async throws -> [Document] {
        try DocumentID.validateCollection(collection)

        let documents = try await onThread { connection in
            try connection.inWriteTransaction {
                try batch.map { data in
                    try Self.insert(data, id: DocumentID.random(), collection: collection, into: connection)
                }
            }
        }
        notifier.notify()
        return documents
    }

    private static func insert(_ data: JSONObject, id: String, collection: String, into connection: SQLiteConnection) throws -> Document {
        let now = Timestamp.now()
        let statement = try connection.prepare(
            "INSERT INTO documents (collection, id, data, delivery, create_time, update_time) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
        let columns = StoredColumns(data)
        try statement.run([.text(collection), .text(id), columns.data, columns.delivery, .text(now.description), .text(now.description)])
        guard try connection.changedRowCount == 1 else {
            throw DocumentStoreError(.alreadyExists, "A document with ID \(id) already exists in \(collection); choose another ID.")
        }
        return Document(id: id, collection: collection, createTime: now, updateTime: now, data: data)
    }

    public func get(_ id: String, from collection: String) async throws -> Document? {
        try await onReader { connection in
            try Self.select(id, from: collection, standsIn: true, on: connection)?.document
        }
    }

    public func set(_ data: JSONObject, id: String, in collection: String) async throws -> Document {
        try DocumentID.validateCollection(collection)
        try DocumentID.validate(id)

        let document = try await onThread { connection in
            try connection.inWriteTransaction {
                // A document that cannot be read may be replaced, which is one way to correct it.
                guard let existing = try Self.select(id, from: collection, standsIn: true, on: connection) else {
                    return try Self.insert(data, id: id, collection: collection, into: connection)
                }
                return try Self.write(data, over: existing, on: connection)
            }
        }
        notifier.notify()
        return document
    }

    public func delete(_ id: String, from collection: String) async throws -> Bool {
        let deleted = try await onThread { connection in
            let statement = try connection.prepare("DELETE FROM documents WHERE collection = ? AND id = ? RETURNING sequence")
            try statement.bind([.text(collection), .text(id)])
            let found = try statement.step()
            statement.reset()
            return found
        }
        if deleted { notifier.notify() }
        return deleted
    }

    public func list(_ collection: String, _ query: ListQuery) async throws -> DocumentPage {
        let bound = try query.sequenceBound()
        let (comparison, order) = query.newestFirst ? ("<", "DESC") : (">", "ASC")
        return try await onReader { connection in
            let stateCondition = query.state == nil ? "" : "AND delivery_state = ?"
            let sql = """
                SELECT \(Self.rowColumns) FROM documents
                WHERE collection = ? AND sequence \(comparison) ? \(stateCondition) ORDER BY sequence \(order) LIMIT ?
                """
            var parameters: [SQLiteValue] = [.text(collection), .integer(bound)]
            if let state = query.state { parameters.append(.text(state)) }
            parameters.append(.integer(Int64(query.limit) + 1))

            var rows = try Self.readRows(sql, parameters, collection: collection, on: connection, standsIn: true)
            var nextPageToken: String?
            if rows.count > query.limit {
                rows.removeLast()
                nextPageToken = String(rows.last!.sequence)
            }
            return DocumentPage(documents: rows.map(\.document), nextPageToken: nextPageToken)
        }
    }

    public func count(_ collection: String, state: String?) async throws -> Int {
        try await onReader { connection in
            let statement: SQLiteStatement
            if let state {
                statement = try connection.prepare("SELECT count(*) FROM documents WHERE collection = ? AND delivery_state = ?")
                try statement.bind([.text(collection), .text(state)])
            } else {
                statement = try connection.prepare("SELECT count(*) FROM documents WHERE collection = ?")
                try statement.bind([.text(collection)])
            }
            _ = try statement.step()
            let count = Int(statement.int64(at: 0))
            statement.reset()
            return count
        }
    }

    public func countByState(_ collection: String) async throws -> [String?: Int] {
        try await onReader { connection in
            let statement = try connection.prepare(
                "SELECT delivery_state IS NULL, delivery_state, count(*) FROM documents WHERE collection = ? GROUP BY delivery_state")
            try statement.bind([.text(collection)])
            defer { statement.reset() }

            var counts: [String?: Int] = [:]
            while try statement.step() {
                let state = statement.int64(at: 0) == 1 ? nil : statement.text(at: 1)
                counts[state, default: 0] += Int(statement.int64(at: 2))
            }
            return counts
        }
    }

    public func update(
        _ id: String, in collection: String, _ change: @escaping @Sendable (Document) throws -> JSONObject?
    ) async throws -> Document? {
        let (document, changed) = try await onThread { connection in
            try connection.inWriteTransaction { () throws -> (Document?, Bool) in
                guard let existing = try Self.select(id, from: collection, on: connection) else { return (nil, false) }
                guard let newData = try change(existing.document) else { return (existing.document, false) }
                return (try Self.write(newData, over: existing, on: connection), true)
            }
        }
        if changed { notifier.notify() }
        return document
    }

    public func updateFieldBatch(_ field: String, _ updates: [FieldUpdate], in collection: String) async throws -> [JSONValue?] {
        try FieldChange.validateFieldName(field)
        guard !updates.isEmpty else { return [] }
        let location = FieldLocation(field)
        // Built once per batch: the statement cache looks statements up by their text.
        let selection = "SELECT \(location.selection), update_time FROM documents WHERE collection = ? AND id = ?"
        let assignment = "UPDATE documents SET \(location.assignment), update_time = ? WHERE collection = ? AND id = ?"

        let (values, changed) = try await onThread { connection in
            try connection.inWriteTransaction { () throws -> ([JSONValue?], Bool) in
                var values: [JSONValue?] = []
                var changed = false
                for update in updates {
                    guard let current = try Self.selectField(selection, location, of: update.id, in: collection, on: connection) else {
                        values.append(nil)
                        continue
                    }
                    guard let newValue = update.change(current.value) else {
                        values.append(current.value)
                        continue
                    }
                    let now = max(Timestamp.now(), current.updateTime.adding(milliseconds: 1))
                    let statement = try connection.prepare(assignment)
                    try statement.run(location.parameters + [.text(newValue.serialized()), .text(now.description), .text(collection), .text(update.id)])
                    values.append(newValue)
                    changed = true
                }
                return (values, changed)
            }
        }
        if changed { notifier.notify() }
        return values
    }

    /// Reads one top-level field of a document with `sql`, which selects `location`, parsing
    /// only that field, or returns nil when the document does not exist.
    private static func selectField(
        _ sql: String, _ location: FieldLocation, of id: String, in collection: String, on connection: SQLiteConnection
    ) throws -> (value: JSONValue?, updateTime: Timestamp)? {
        let statement = try connection.prepare(sql)
        try statement.bind(location.parameters + [.text(collection), .text(id)])
        defer { statement.reset() }
        guard try statement.step() else { return nil }

        let updateTime = Timestamp(rfc3339: statement.text(at: 1)) ?? Timestamp(millisecondsSince1970: 0)
        guard !statement.isNull(at: 0) else { return (nil, updateTime) }
        do {
            return (try JSONValue(parsing: statement.bytes(at: 0)), updateTime)
        } catch {
            throw UnreadableDocument.changeError(id: id, collection: collection, problem: "contains invalid JSON: \(error)")
        }
    }

    public func claim(
        from collection: String, readyStates: [String], limit: Int,
        _ changeDelivery: @escaping @Sendable (JSONValue?) -> JSONValue?
    ) async throws -> [Document] {
        let (claimed, endedUnreadable) = try await onThread { connection in
            try connection.inWriteTransaction {
                // SQLite uses a partial index only when the query repeats its condition as
                // literals, so the usual states are written into the SQL text.
                let usesReadyIndex = readyStates.sorted() == SQLiteSchema.indexedReadyStates
                let stateList = usesReadyIndex
                    ? SQLiteSchema.indexedReadyStates.map { "'\($0)'" }.joined(separator: ", ")
                    : readyStates.map { _ in "?" }.joined(separator: ", ")
                let sql = Self.claimQuery(stateList: stateList, usesReadyIndex: usesReadyIndex)
                let stateParameters: [SQLiteValue] = usesReadyIndex ? [] : readyStates.map { .text($0) }
                let parameters: [SQLiteValue] = [.text(collection)] + stateParameters + [.integer(Int64(limit))]
                var unreadable: [UnreadableRow] = []
                var candidates: [ClaimCandidate] = []
                for candidate in try Self.readClaimCandidates(sql, parameters, collection: collection, on: connection, unreadable: &unreadable) {
                    switch try Self.reconcileState(of: candidate, in: collection, on: connection) {
                    case .readable(let reconciled): candidates.append(reconciled)
                    case .unreadable(let row): unreadable.append(row)
                    }
                }
                try Self.endUnreadable(unreadable, in: collection, on: connection)

                let claimed = try candidates.compactMap { candidate -> ClaimCandidate? in
                    guard let delivery = changeDelivery(candidate.delivery) else { return nil }
                    return try Self.writeDelivery(delivery, over: candidate, in: collection, on: connection)
                }
                return (claimed, unreadable)
            }
        }
        logEnded(endedUnreadable, in: collection)

        // The message bodies are parsed here, off the store's thread, which meanwhile goes on
        // with other claims and outcomes. A document that turns out to be unreadable has been
        // claimed already, so it ends as `ERROR` in a second transaction. Should that one fail,
        // the document stays `PROCESSING` and `expiredLeases` ends it when its lease runs out.
        let (documents, unreadable) = Self.documents(from: claimed, in: collection)
        do {
            try await endUnreadableInOwnTransaction(unreadable, in: collection)
        } catch {
            logger?.error(
                "ending unreadable documents failed; the lease sweep ends them later",
                ["mail.collection": collection, "mail.ids": unreadable.map(\.id).joined(separator: " "), "store.error": "\(error)"])
        }
        if !claimed.isEmpty || !endedUnreadable.isEmpty { notifier.notify() }
        return documents
    }

    /// Parses the claimed candidates into documents. Those that cannot be read are returned
    /// separately, to end as `ERROR`.
    private static func documents(from claimed: [ClaimCandidate], in collection: String) -> ([Document], [UnreadableRow]) {
        var documents: [Document] = []
        var unreadable: [UnreadableRow] = []
        for candidate in claimed {
            switch candidate.document(in: collection) {
            case .success(let document):
                documents.append(document)
            case .failure(let problem):
                unreadable.append(
                    UnreadableRow(id: candidate.id, updateTime: candidate.updateTime, reason: problem.reason, previousDelivery: candidate.readDelivery))
            }
        }
        return (documents, unreadable)
    }

    private func endUnreadableInOwnTransaction(_ unreadable: [UnreadableRow], in collection: String) async throws {
        guard !unreadable.isEmpty else { return }
        try await onThread { connection in
            try connection.inWriteTransaction { try Self.endUnreadable(unreadable, in: collection, on: connection) }
        }
        logEnded(unreadable, in: collection)
        notifier.notify()
    }

    private func logEnded(_ unreadable: [UnreadableRow], in collection: String) {
        for row in unreadable {
            logger?.warning("document cannot be read; ended as ERROR", ["mail.collection": collection, "mail.id": row.id, "error": row.reason])
        }
    }

    /// Returns the query that finds the oldest ready documents. It names the ready index,
    /// because SQLite's planner prefers the collection index, which walks past every document
    /// already sent.
    static func claimQuery(stateList: String, usesReadyIndex: Bool) -> String {
        """
        SELECT \(Self.rowColumns), delivery_state FROM documents \(usesReadyIndex ? "INDEXED BY documents_ready" : "")
        WHERE collection = ? AND (delivery_state IS NULL OR delivery_state IN (\(stateList)))
        ORDER BY sequence LIMIT ?
        """
    }

    public func expiredLeases(in collection: String, at now: Timestamp, limit: Int) async throws -> [Document] {
        let (expired, unreadable) = try await onReader { connection in
            let sql = """
                SELECT \(Self.rowColumns) FROM documents
                WHERE collection = ? AND delivery_state = 'PROCESSING'
                AND (lease_expire_time IS NULL OR lease_expire_time < ?
                     OR lease_expire_time NOT GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z')
                ORDER BY sequence LIMIT ?
                """
            var unreadable: [UnreadableRow] = []
            let rows = try Self.readRows(
                sql, [.text(collection), .text(now.description), .integer(Int64(limit))], collection: collection, on: connection,
                unreadable: &unreadable)
            return (rows.map(\.document), unreadable)
        }
        // No processor can send a claimed document that cannot be read, so it ends as `ERROR`
        // here instead of failing every sweep.
        try await endUnreadableInOwnTransaction(unreadable, in: collection)
        return expired
    }

    // MARK: - Rows

    private struct Row {
        var sequence: Int64
        var document: Document
        /// Whether `data` has a `delivery` of its own, which a program's SQL INSERT put there.
        var deliveryInData = false
    }

    /// Reads one row. With `standsIn`, unreadable data comes back as stand-in fields (see
    /// `readRows`).
    private static func select(_ id: String, from collection: String, standsIn: Bool = false, on connection: SQLiteConnection) throws -> Row? {
        let sql = "SELECT \(Self.rowColumns) FROM documents WHERE collection = ? AND id = ?"
        return try readRows(sql, [.text(collection), .text(id)], collection: collection, on: connection, standsIn: standsIn).first
    }

    private static func write(_ data: JSONObject, over row: Row, on connection: SQLiteConnection) throws -> Document {
        let existing = row.document
        // A write in the same millisecond as the previous one still moves updateTime forward, so
        // readers can tell the two versions apart.
        let now = max(Timestamp.now(), existing.updateTime.adding(milliseconds: 1))
        let key: [SQLiteValue] = [.text(now.description), .text(existing.collection), .text(existing.id)]

        // A delivery update (claim, outcome, lease) changes only `delivery`, which has a column
        // of its own, so the rest of the document, message bodies and all, is not serialized.
        if !row.deliveryInData, let delivery = data["delivery"], FieldChange.onlyFieldDiffers("delivery", data, existing.data) {
            let statement = try connection.prepare("UPDATE documents SET delivery = ?, update_time = ? WHERE collection = ? AND id = ?")
            try statement.run([.text(delivery.serialized())] + key)
        } else {
            let statement = try connection.prepare("UPDATE documents SET data = ?, delivery = ?, update_time = ? WHERE collection = ? AND id = ?")
            let columns = StoredColumns(data)
            try statement.run([columns.data, columns.delivery] + key)
        }

        var updated = existing
        updated.data = data
        updated.updateTime = now
        return updated
    }

    /// A ready row as a claim reads it: its `delivery`, and its other fields still as JSON text
    /// unless `delivery` had to be looked for among them.
    private struct ClaimCandidate {
        enum Fields {
            case text([UInt8])
            case parsed(JSONObject, deliveryInData: Bool)
        }

        var sequence: Int64
        var id: String
        var createTime: Timestamp
        var updateTime: Timestamp
        var fields: Fields
        var delivery: JSONValue?
        /// `delivery` as the row had it before this claim changed it.
        var readDelivery: JSONValue?
        /// `delivery.state` as SQLite's JSON functions read it for the indexes.
        var indexedState: String?

        /// Returns the document with `delivery` in its place, parsing the fields if still needed.
        func document(in collection: String) -> Result<Document, DataProblem> {
            var data: JSONObject
            switch fields {
            case .parsed(let object, _):
                data = object
            case .text(let bytes):
                switch SQLiteStore.object(from: bytes) {
                case .success(let object): data = object
                case .failure(let problem): return .failure(problem)
                }
            }
            data["delivery"] = delivery
            return .success(Document(id: id, collection: collection, createTime: createTime, updateTime: updateTime, data: data))
        }
    }

    /// Reads `rowColumns` rows for a claim. Only the `delivery` column is parsed, unless `data`
    /// may hold a `delivery` that a program's SQL put there: that one counts when the column is
    /// NULL, and the claim's write removes it. Rows that cannot be read are left out and
    /// reported in `unreadable`.
    private static func readClaimCandidates(
        _ sql: String, _ parameters: [SQLiteValue], collection: String, on connection: SQLiteConnection,
        unreadable: inout [UnreadableRow]
    ) throws -> [ClaimCandidate] {
        let statement = try connection.prepare(sql)
        try statement.bind(parameters)
        defer { statement.reset() }

        var candidates: [ClaimCandidate] = []
        while try statement.step() {
            let id = statement.text(at: 1)
            let updateTime = Timestamp(rfc3339: statement.text(at: 5)) ?? Timestamp(millisecondsSince1970: 0)
            let bytes = statement.bytes(at: 2)
            var fields = ClaimCandidate.Fields.text(bytes)
            let deliveryText = statement.isNull(at: 3) ? nil : statement.bytes(at: 3)
            var delivery: JSONValue?

            if let deliveryText {
                do {
                    delivery = try JSONValue(parsing: deliveryText)
                } catch {
                    unreadable.append(UnreadableRow(id: id, updateTime: updateTime, reason: DataProblem.invalidDeliveryJSON(error).reason))
                    continue
                }
            }
            if mayHaveDeliveryKey(bytes) {
                switch object(from: bytes) {
                case .success(let object):
                    fields = .parsed(object, deliveryInData: object["delivery"] != nil)
                    if deliveryText == nil { delivery = object["delivery"] }
                case .failure(let problem):
                    let previous = storedDelivery(of: id, in: collection, on: connection)
                    unreadable.append(UnreadableRow(id: id, updateTime: updateTime, reason: problem.reason, previousDelivery: previous))
                    continue
                }
            }
            candidates.append(ClaimCandidate(
                sequence: statement.int64(at: 0), id: id,
                createTime: Timestamp(rfc3339: statement.text(at: 4)) ?? Timestamp(millisecondsSince1970: 0),
                updateTime: updateTime, fields: fields, delivery: delivery, readDelivery: delivery,
                indexedState: statement.isNull(at: 6) ? nil : statement.text(at: 6)))
        }
        return candidates
    }

    /// Returns whether JSON text may have the key `delivery`: it contains `"delivery"` or a
    /// `\u` escape, the only way to spell those letters otherwise. A value that contains them
    /// returns true as well, which costs only a parse. memchr finds each candidate first byte,
    /// so looking costs far less than parsing the message bodies.
    static func mayHaveDeliveryKey(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { text in
            guard let base = text.baseAddress else { return false }
            return contains(Array("\"delivery\"".utf8), in: base, count: text.count) || contains(Array("\\u".utf8), in: base, count: text.count)
        }
    }

    private static func contains(_ pattern: [UInt8], in base: UnsafePointer<UInt8>, count: Int) -> Bool {
        let lastStart = count - pattern.count
        var position = 0
        while position <= lastStart {
            guard let found = memchr(base + position, Int32(pattern[0]), lastStart - position + 1) else { return false }
            position = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + position, pattern, pattern.count) == 0 { return true }
            position += 1
        }
        return false
    }

    /// Makes SQLite's reading of a candidate's state match this service's. SQLite's JSON
    /// functions, which compute the indexed state, read an escaped key such as `"st\u0061te"` as
    /// a different key, take the first of duplicate keys where this service takes the last, and
    /// stop a string at `\u0000`. Such a row would stay in the ready index and take a place in
    /// every claim. Writing `delivery` again in this service's form settles the first two; a
    /// row that still reads differently is returned as unreadable, to end as `ERROR`.
    private static func reconcileState(
        of candidate: ClaimCandidate, in collection: String, on connection: SQLiteConnection
    ) throws -> Reconciled {
        guard let delivery = candidate.delivery, let state = delivery[path: "state"]?.stringValue, state != candidate.indexedState else {
            return .readable(candidate)
        }

        var rewritten = try writeDelivery(delivery, over: candidate, in: collection, on: connection)
        let statement = try connection.prepare("SELECT delivery_state FROM documents WHERE collection = ? AND id = ?")
        try statement.bind([.text(collection), .text(candidate.id)])
        defer { statement.reset() }
        let indexedState = try statement.step() && !statement.isNull(at: 0) ? statement.text(at: 0) : nil
        guard indexedState != state else {
            rewritten.indexedState = indexedState
            return .readable(rewritten)
        }

        let reason = "its delivery.state \(JSONValue.string(state).serialized()) reads as \(indexedState.map { JSONValue.string($0).serialized() } ?? "nothing") in SQLite's JSON functions"
        return .unreadable(UnreadableRow(id: candidate.id, updateTime: rewritten.updateTime, reason: reason, previousDelivery: delivery))
    }

    /// A candidate after `reconcileState`.
    private enum Reconciled {
        case readable(ClaimCandidate)
        case unreadable(UnreadableRow)
    }

    /// Reads a row's `delivery` from its column or, with SQLite's JSON functions, from `data`, for
    /// a row whose `data` this service cannot parse. Returns nil when there is none, or when this
    /// service cannot read it either.
    private static func storedDelivery(of id: String, in collection: String, on connection: SQLiteConnection) -> JSONValue? {
        let location = FieldLocation("delivery")
        let sql = "SELECT \(location.selection), update_time FROM documents WHERE collection = ? AND id = ?"
        return (try? selectField(sql, location, of: id, in: collection, on: connection))?.value
    }

    /// Writes a candidate's new `delivery`: into its column alone, or with the rest of the
    /// document when `data` has a `delivery` of its own to remove.
    private static func writeDelivery(
        _ delivery: JSONValue, over candidate: ClaimCandidate, in collection: String, on connection: SQLiteConnection
    ) throws -> ClaimCandidate {
        var claimed = candidate
        claimed.delivery = delivery
        if case .parsed(let object, deliveryInData: true) = candidate.fields {
            var data = object
            data["delivery"] = delivery
            let existing = Document(id: candidate.id, collection: collection, createTime: candidate.createTime, updateTime: candidate.updateTime, data: object)
            let written = try write(data, over: Row(sequence: candidate.sequence, document: existing, deliveryInData: true), on: connection)
            claimed.updateTime = written.updateTime
            return claimed
        }

        let now = max(Timestamp.now(), candidate.updateTime.adding(milliseconds: 1))
        let statement = try connection.prepare("UPDATE documents SET delivery = ?, update_time = ? WHERE collection = ? AND id = ?")
        try statement.run([.text(delivery.serialized()), .text(now.description), .text(collection), .text(candidate.id)])
        claimed.updateTime = now
        return claimed
    }

    /// A row whose JSON SQLite accepted but this service cannot read, or whose JSON is not an
    /// object.
    private struct UnreadableRow {
        var id: String
        var updateTime: Timestamp
        var reason: String
        /// The row's `delivery`, from its column or from `data`, when it can be read.
        var previousDelivery: JSONValue?
    }

    /// The columns that `readRows` reads, in its order.
    static let rowColumns = "sequence, id, data, delivery, create_time, update_time"

    /// Reads `rowColumns` rows. A row whose data cannot be read is left out and reported in
    /// `unreadable` when it is given, or read as `UnreadableDocument.standIn` fields with
    /// `standsIn`. Otherwise it throws `UnreadableDocument.changeError`.
    private static func readRows(
        _ sql: String, _ parameters: [SQLiteValue], collection: String, on connection: SQLiteConnection,
        unreadable: UnsafeMutablePointer<[UnreadableRow]>? = nil, standsIn: Bool = false
    ) throws -> [Row] {
        let statement = try connection.prepare(sql)
        try statement.bind(parameters)
        defer { statement.reset() }

        var rows: [Row] = []
        while try statement.step() {
            let id = statement.text(at: 1)
            let updateTime = Timestamp(rfc3339: statement.text(at: 5)) ?? Timestamp(millisecondsSince1970: 0)
            var data: JSONObject
            var deliveryInData = false
            let bytes = statement.bytes(at: 2)
            let deliveryColumn = statement.isNull(at: 3) ? nil : statement.bytes(at: 3)
            switch Self.object(from: bytes, delivery: deliveryColumn) {
            case .success(let parsed):
                (data, deliveryInData) = parsed
            case .failure(let problem):
                guard unreadable != nil || standsIn else {
                    throw UnreadableDocument.changeError(id: id, collection: collection, problem: problem.predicate)
                }

                let previous = storedDelivery(of: id, in: collection, on: connection)
                if let unreadable {
                    unreadable.pointee.append(UnreadableRow(id: id, updateTime: updateTime, reason: problem.reason, previousDelivery: previous))
                    continue
                }
                data = UnreadableDocument.standIn(storedText: String(decoding: bytes, as: UTF8.self), delivery: previous)
            }
            let document = Document(
                id: id, collection: collection,
                createTime: Timestamp(rfc3339: statement.text(at: 4)) ?? Timestamp(millisecondsSince1970: 0),
                updateTime: updateTime, data: data)
            rows.append(Row(sequence: statement.int64(at: 0), document: document, deliveryInData: deliveryInData))
        }
        return rows
    }

    /// Why a row's data cannot be a document.
    private enum DataProblem: Error {
        case invalidJSON(JSONSyntaxError)
        case invalidDeliveryJSON(JSONSyntaxError)
        case notObject(typeDescription: String)

        /// The reason, as the error of an `ERROR` delivery gives it.
        var reason: String {
            switch self {
            case .invalidJSON(let error): "\(error)"
            case .invalidDeliveryJSON(let error): "its delivery column contains invalid JSON: \(error)"
            case .notObject(let type): "its data is \(type), not an object"
            }
        }

        /// The end of a sentence that starts with the document.
        var predicate: String {
            switch self {
            case .invalidJSON(let error): "contains invalid JSON: \(error)"
            case .invalidDeliveryJSON(let error): "contains invalid JSON in its delivery column: \(error)"
            case .notObject(let type): "is \(type), not a JSON object."
            }
        }
    }

    /// Parses a row's data, which must be a JSON object, and sets its `delivery` field from the
    /// column when the column is not NULL. Also returns whether `data` had a `delivery` of its
    /// own, which the next write of the row removes.
    private static func object(from bytes: [UInt8], delivery: [UInt8]?) -> Result<(JSONObject, deliveryInData: Bool), DataProblem> {
        var object: JSONObject
        switch Self.object(from: bytes) {
        case .success(let parsed): object = parsed
        case .failure(let problem): return .failure(problem)
        }

        let deliveryInData = object["delivery"] != nil
        if let delivery {
            do {
                object["delivery"] = try JSONValue(parsing: delivery)
            } catch {
                return .failure(.invalidDeliveryJSON(error))
            }
        }
        return .success((object, deliveryInData))
    }

    /// Parses JSON text that must be an object.
    private static func object(from bytes: [UInt8]) -> Result<JSONObject, DataProblem> {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            return .failure(.invalidJSON(error))
        }
        guard let object = value.objectValue else { return .failure(.notObject(typeDescription: value.typeDescription)) }
        return .success(object)
    }

    /// Ends documents that SQLite accepted but this service cannot read as `ERROR` (see
    /// `UnreadableDocument`). Only `delivery` is written, and the rest stays as it was inserted. A
    /// `delivery` column that contains JSON this service cannot read is replaced.
    ///
    /// Data that is not an object, such as a JSON string or an array with a number out of
    /// range, has no place for `delivery`. SQLite moves it to the field `movedDataField` of a
    /// new object, so nothing is lost, and the row leaves the ready states.
    private static func endUnreadable(_ unreadable: [UnreadableRow], in collection: String, on connection: SQLiteConnection) throws {
        let statement = try connection.prepare(
            """
            UPDATE documents SET delivery = CASE WHEN json_valid(data) AND json_type(data) = 'object' THEN ? ELSE ? END,
                data = CASE WHEN json_valid(data) AND json_type(data) = 'object' THEN json_remove(data, '$.delivery')
                    WHEN json_valid(data) THEN json_object('\(movedDataField)', json(data))
                    ELSE json_object('\(movedDataField)', data) END,
                update_time = ? WHERE collection = ? AND id = ?
            """)
        for row in unreadable {
            let now = max(Timestamp.now(), row.updateTime.adding(milliseconds: 1))
            let delivery = UnreadableDocument.delivery(reason: row.reason, at: now, previous: row.previousDelivery)
            let movedReason = "\(UnreadableDocument.sentenceBody(row.reason)), so the data was moved to the field \(movedDataField)"
            let movedDelivery = UnreadableDocument.delivery(reason: movedReason, at: now, previous: row.previousDelivery)
            try statement.run([
                .text(delivery.serialized()), .text(movedDelivery.serialized()), .text(now.description), .text(collection), .text(row.id),
            ])
        }
    }

    /// The field that keeps the data of a row whose JSON is not an object.
    static let movedDataField = "unreadableData"

    // MARK: - Thread

    private func onThread<Result: Sendable>(_ work: @escaping @Sendable (SQLiteConnection) throws -> Result) async throws -> Result {
        let connection = UncheckedSendable(connection)
        do {
            return try await thread.run { try work(connection.value) }
        } catch let error as SQLiteError {
            throw storeError(error)
        }
    }

    /// Runs a read on one of the reading connections, so that it does not wait for writes.
    private func onReader<Result: Sendable>(_ work: @escaping @Sendable (SQLiteConnection) throws -> Result) async throws -> Result {
        do {
            return try await readers.read(work)
        } catch let error as SQLiteError {
            throw storeError(error)
        }
    }

    private func storeError(_ error: SQLiteError) -> DocumentStoreError {
        guard !error.isBusy else {
            return DocumentStoreError(
                .storage,
                "The SQLite database \(path) stayed locked by another process for more than the busy timeout; try again, and if it persists look for a process stuck in a transaction.")
        }
        return DocumentStoreError(.storage, "The SQLite database \(path) failed: \(error)")
    }
}

/// Carries a value that is confined to the store's thread across the `Sendable` check.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
