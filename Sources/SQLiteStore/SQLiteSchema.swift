/// The database layout, versioned with `PRAGMA user_version` so that later versions can migrate
/// a file in place.
enum SQLiteSchema {
    static let version = 4

    /// The first version whose files an older trigger-email cannot work on. Version 4 moved
    /// `delivery` out of `data`, where older versions read and write it.
    static let firstVersionOlderProcessesCannotUse = 4

    /// The delivery states that the claim query's partial index covers, besides a missing state.
    static let indexedReadyStates = ["PENDING", "RETRY"]

    /// One table for every collection. `delivery_state` and `lease_expire_time` are computed
    /// from `delivery` (from `data` while the column is NULL), so the "ready to send" and
    /// "lease expired" queries use an index instead of parsing every document.
    static let migrations: [String] = [
        """
        CREATE TABLE documents (
            sequence INTEGER PRIMARY KEY,
            collection TEXT NOT NULL,
            id TEXT NOT NULL,
            data TEXT NOT NULL,
            create_time TEXT NOT NULL,
            update_time TEXT NOT NULL,
            delivery_state TEXT GENERATED ALWAYS AS (json_extract(data, '$.delivery.state')) VIRTUAL,
            lease_expire_time TEXT GENERATED ALWAYS AS (json_extract(data, '$.delivery.leaseExpireTime')) VIRTUAL,
            UNIQUE (collection, id)
        );
        CREATE INDEX documents_by_state ON documents (collection, delivery_state, sequence);
        CREATE INDEX documents_by_lease ON documents (collection, delivery_state, lease_expire_time);
        """,
        // Version 2: the claim query reads the oldest ready documents from this index in
        // order, so it touches only the rows it returns, however many documents were sent
        // before. With the state index alone, SQLite sorted every document of the collection.
        """
        CREATE INDEX documents_ready ON documents (collection, sequence)
            WHERE delivery_state IS NULL OR delivery_state IN ('PENDING', 'RETRY');
        """,
        // Version 3: listings read a collection in sequence order, oldest or newest first,
        // straight from this index. Without it SQLite sorted the whole collection per page.
        """
        CREATE INDEX documents_by_collection ON documents (collection, sequence);
        """,
        // Version 4: `delivery` gets a column of its own, and `data` contains the other fields.
        // A claim or an outcome rewrites a 200-byte column instead of running json_set over the
        // whole document, and the index columns are computed from that small text. Before,
        // SQLite parsed a benchmark document's 3 KB several times per write.
        //
        // Programs may still write `delivery` inside `data` with SQL. A row whose column is NULL
        // takes its state and lease from `data`, so an INSERT needs no trigger. An insert
        // trigger measured about 15 µs per insert, even with a WHEN clause that was false. The store moves such a
        // `delivery` to the column when it next writes the row. An UPDATE that changes the
        // `delivery` inside `data` has it merged into the column (RFC 7396), so setting
        // `$.delivery.state` to RETRY in `data` works and keeps the attempt count. A stale copy
        // that an UPDATE of other fields leaves as it was is only removed, so it cannot undo
        // what the column recorded since.
        """
        ALTER TABLE documents RENAME TO documents_version_3;
        CREATE TABLE documents (
            sequence INTEGER PRIMARY KEY,
            collection TEXT NOT NULL,
            id TEXT NOT NULL,
            data TEXT NOT NULL,
            delivery TEXT,
            create_time TEXT NOT NULL,
            update_time TEXT NOT NULL,
            delivery_state TEXT GENERATED ALWAYS AS (CASE WHEN delivery IS NULL
                THEN json_extract(data, '$.delivery.state') ELSE json_extract(delivery, '$.state') END) VIRTUAL,
            lease_expire_time TEXT GENERATED ALWAYS AS (CASE WHEN delivery IS NULL
                THEN json_extract(data, '$.delivery.leaseExpireTime') ELSE json_extract(delivery, '$.leaseExpireTime') END) VIRTUAL,
            UNIQUE (collection, id)
        );
        INSERT INTO documents (sequence, collection, id, data, delivery, create_time, update_time)
            SELECT sequence, collection, id,
                CASE WHEN json_type(data, '$.delivery') IS NULL THEN data ELSE json_remove(data, '$.delivery') END,
                data -> '$.delivery', create_time, update_time
            FROM documents_version_3;
        DROP TABLE documents_version_3;
        CREATE INDEX documents_by_state ON documents (collection, delivery_state, sequence);
        CREATE INDEX documents_by_lease ON documents (collection, delivery_state, lease_expire_time);
        CREATE INDEX documents_ready ON documents (collection, sequence)
            WHERE delivery_state IS NULL OR delivery_state IN ('PENDING', 'RETRY');
        CREATE INDEX documents_by_collection ON documents (collection, sequence);
        CREATE TRIGGER documents_delivery_on_update AFTER UPDATE OF data ON documents
            WHEN json_type(NEW.data, '$.delivery') IS NOT NULL
        BEGIN
            UPDATE documents SET
                delivery = CASE
                    WHEN delivery IS NULL THEN NEW.data -> '$.delivery'
                    WHEN (NEW.data -> '$.delivery') IS NOT (OLD.data -> '$.delivery') THEN json_patch(delivery, NEW.data -> '$.delivery')
                    ELSE delivery END,
                data = json_remove(NEW.data, '$.delivery')
                WHERE sequence = NEW.sequence;
        END;
        """,
    ]
}
