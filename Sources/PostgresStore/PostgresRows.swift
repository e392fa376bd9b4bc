import DocumentStore

/// The statements that read and write rows of `trigger_email.documents`, shared by the store's
/// operations.
enum PostgresRows {
    struct Row {
        var sequence: Int64
        var document: Document
    }

    /// `create_time` and `update_time` as milliseconds since 1970.
    static let timeColumns = """
        floor(extract(epoch FROM create_time) * 1000)::int8, floor(extract(epoch FROM update_time) * 1000)::int8
        """

    /// The update time of a write: now, but at least a millisecond after the previous write, so
    /// that readers can tell two versions apart. Refers to the row as `existing`.
    static let nextUpdateTime = "GREATEST(trigger_email.now_ms(), existing.update_time + interval '1 millisecond')"

    static func times(_ result: PostgresResult, row: Int, firstColumn: Int) -> (create: Timestamp, update: Timestamp) {
        (Timestamp(millisecondsSince1970: result.int64(row, firstColumn)),
         Timestamp(millisecondsSince1970: result.int64(row, firstColumn + 1)))
    }

    /// Reads the documents that `condition` (a WHERE clause and what follows it) selects. A row
    /// this service cannot read is left out and reported in `unreadable` when it is given, or
    /// read as `UnreadableDocument.standIn` fields with `standsIn`. Otherwise it throws
    /// `UnreadableDocument.changeError`.
    static func select(
        _ condition: String, _ parameters: [String?], collection: String, on connection: PostgresConnection,
        unreadable: UnsafeMutablePointer<[(id: String, error: String)]>? = nil, standsIn: Bool = false
    ) throws -> [Row] {
        let result = try connection.query(
            "SELECT sequence, id, data, \(timeColumns) FROM trigger_email.documents \(condition)",
            parameters, timeout: PostgresStore.statementTimeout)

        var rows: [Row] = []
        rows.reserveCapacity(result.rowCount)
        for row in 0..<result.rowCount {
            let id = result.text(row, 1)
            let bytes = Array(result.bytes(row, 2))
            var data: JSONObject
            do {
                data = try JSONValue(parsing: bytes).objectValue ?? [:]
            } catch {
                if let unreadable {
                    unreadable.pointee.append((id, "\(error)"))
                    continue
                }
                guard standsIn else {
                    throw UnreadableDocument.changeError(id: id, collection: collection, problem: "contains invalid JSON: \(error)")
                }
                data = UnreadableDocument.standIn(
                    storedText: String(decoding: bytes, as: UTF8.self), delivery: try delivery(of: id, in: collection, on: connection))
            }
            let time = times(result, row: row, firstColumn: 3)
            let document = Document(id: id, collection: collection, createTime: time.create, updateTime: time.update, data: data)
            rows.append(Row(sequence: result.int64(row, 0), document: document))
        }
        return rows
    }

    /// Reads the `delivery` of a document whose whole JSON cannot be read, or nil when the
    /// `delivery` cannot be read either.
    private static func delivery(of id: String, in collection: String, on connection: PostgresConnection) throws -> JSONValue? {
        let result = try connection.query(
            "SELECT data -> 'delivery' FROM trigger_email.documents WHERE collection = $1 AND id = $2", [collection, id],
            timeout: PostgresStore.statementTimeout)
        guard result.rowCount == 1, !result.isNull(0, 0) else { return nil }
        return try? JSONValue(parsing: Array(result.bytes(0, 0)))
    }

    /// Writes new fields over documents read in the same transaction, in two statements at most:
    /// one for the documents whose `delivery` alone changed, which rewrites only that field, and
    /// one for the rest.
    static func write(_ changes: [(existing: Document, data: JSONObject)], on connection: PostgresConnection) throws -> [Document] {
        guard let collection = changes.first?.existing.collection else { return [] }

        var deliveryIDs: [String] = []
        var deliveries: [String] = []
        var wholeIDs: [String] = []
        var wholeData: [String] = []
        for change in changes {
            if let delivery = change.data["delivery"], FieldChange.onlyFieldDiffers("delivery", change.data, change.existing.data) {
                deliveryIDs.append(change.existing.id)
                deliveries.append(delivery.serialized())
            } else {
                wholeIDs.append(change.existing.id)
                wholeData.append(JSONValue.object(change.data).serialized())
            }
        }

        var updateTimes: [String: Timestamp] = [:]
        if !deliveryIDs.isEmpty {
            let times = try writeRows(
                "jsonb_set(existing.data, '{delivery}', new.value)", ids: deliveryIDs, values: deliveries, in: collection, on: connection)
            updateTimes.merge(times) { _, new in new }
        }
        if !wholeIDs.isEmpty {
            let times = try writeRows("new.value", ids: wholeIDs, values: wholeData, in: collection, on: connection)
            updateTimes.merge(times) { _, new in new }
        }

        return changes.map { change in
            var updated = change.existing
            updated.data = change.data
            updated.updateTime = updateTimes[change.existing.id] ?? change.existing.updateTime
            return updated
        }
    }

    /// Reads one top-level field of each document, locking the rows in ID order. The result has
    /// an entry for each document that exists: the field's value, or `nil` when it lacks the field.
    static func selectField(
        _ field: String, of ids: [String], in collection: String, on connection: PostgresConnection
    ) throws -> [String: JSONValue?] {
        let result = try connection.query(
            """
            SELECT id, data -> $3 FROM trigger_email.documents
            WHERE collection = $1 AND id = ANY($2::text[]) ORDER BY id FOR UPDATE
            """,
            [collection, PostgresArray.literal(ids), field], timeout: PostgresStore.statementTimeout)

        var values: [String: JSONValue?] = [:]
        for row in 0..<result.rowCount {
            let id = result.text(row, 0)
            guard !result.isNull(row, 1) else {
                values[id] = .some(nil)
                continue
            }
            do {
                values[id] = try JSONValue(parsing: Array(result.bytes(row, 1)))
            } catch {
                throw UnreadableDocument.changeError(id: id, collection: collection, problem: "contains invalid JSON: \(error)")
            }
        }
        return values
    }

    /// Sets one top-level field of each listed document.
    static func writeField(_ field: String, _ values: [String: JSONValue], in collection: String, on connection: PostgresConnection) throws {
        guard !values.isEmpty else { return }
        let ids = Array(values.keys)
        _ = try writeRows(
            "jsonb_set(existing.data, '{\(field)}', new.value)", ids: ids, values: ids.map { values[$0]!.serialized() },
            in: collection, on: connection)
    }

    /// Sets `data` to `newData` (an expression of `existing.data` and `new.value`) for each ID,
    /// and returns the new update times.
    private static func writeRows(
        _ newData: String, ids: [String], values: [String], in collection: String, on connection: PostgresConnection
    ) throws -> [String: Timestamp] {
        let result = try connection.query(
            """
            UPDATE trigger_email.documents AS existing SET data = \(newData), update_time = \(nextUpdateTime)
            FROM unnest($2::text[], $3::jsonb[]) AS new(id, value)
            WHERE existing.collection = $1 AND existing.id = new.id
            RETURNING existing.id, floor(extract(epoch FROM existing.update_time) * 1000)::int8
            """,
            [collection, PostgresArray.literal(ids), PostgresArray.literal(values)], timeout: PostgresStore.statementTimeout)

        var times: [String: Timestamp] = [:]
        for row in 0..<result.rowCount {
            times[result.text(row, 0)] = Timestamp(millisecondsSince1970: result.int64(row, 1))
        }
        return times
    }
}
