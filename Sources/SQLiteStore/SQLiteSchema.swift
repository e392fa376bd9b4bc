/// The database layout, versioned with `PRAGMA user_version` so that later versions can migrate
/// a file in place.
enum SQLiteSchema {
    static let version = 4

    /// The delivery states that the claim query's partial index covers, besides a missing state.
    static let indexedReadyStates = ["PENDING", "RETRY"]

    /// One set of tables for every collection. `delivery_state` and `lease_expire_time` are
    /// computed from the `delivery` JSON so the "ready to send" and "lease expired" queries use
    /// an index instead of parsing every document.
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
        // Version 4: a document's row is split in two. `document_records` has the ID, the
        // times and `delivery`, about 300 bytes, and `document_bodies` has `data`, the rest of
        // the document. A claim or an outcome rewrites the small record only. An 8 KiB page
        // fits about 25 records but only 2 whole benchmark documents, so a batch of claims
        // writes fewer pages to the WAL. The index columns are computed from the small
        // `delivery` text, where before SQLite parsed the 3 KB document for them.
        //
        // The view `documents` joins the two, so programs read and write documents with SQL as
        // before. Its triggers keep `delivery` out of `data`: an INSERT's moves to the record,
        // and an UPDATE's is merged into it (RFC 7396), so setting `$.delivery.state` to RETRY
        // in `data` keeps the attempt count. json_remove also rejects data that is not valid
        // JSON, as the computed columns did.
        """
        ALTER TABLE documents RENAME TO documents_version_3;
        CREATE TABLE document_records (
            sequence INTEGER PRIMARY KEY,
            collection TEXT NOT NULL,
            id TEXT NOT NULL,
            delivery TEXT,
            create_time TEXT NOT NULL,
            update_time TEXT NOT NULL,
            delivery_state TEXT GENERATED ALWAYS AS (json_extract(delivery, '$.state')) VIRTUAL,
            lease_expire_time TEXT GENERATED ALWAYS AS (json_extract(delivery, '$.leaseExpireTime')) VIRTUAL,
            UNIQUE (collection, id)
        );
        CREATE TABLE document_bodies (
            sequence INTEGER PRIMARY KEY,
            data TEXT NOT NULL
        );
        INSERT INTO document_records (sequence, collection, id, delivery, create_time, update_time)
            SELECT sequence, collection, id, data -> '$.delivery', create_time, update_time FROM documents_version_3;
        INSERT INTO document_bodies (sequence, data)
            SELECT sequence, CASE WHEN json_type(data, '$.delivery') IS NULL THEN data ELSE json_remove(data, '$.delivery') END
            FROM documents_version_3;
        DROP TABLE documents_version_3;
        CREATE INDEX documents_by_state ON document_records (collection, delivery_state, sequence);
        CREATE INDEX documents_by_lease ON document_records (collection, delivery_state, lease_expire_time);
        CREATE INDEX documents_ready ON document_records (collection, sequence)
            WHERE delivery_state IS NULL OR delivery_state IN ('PENDING', 'RETRY');
        CREATE INDEX documents_by_collection ON document_records (collection, sequence);
        CREATE VIEW documents AS
            SELECT r.sequence, r.collection, r.id, b.data, r.delivery, r.create_time, r.update_time, r.delivery_state, r.lease_expire_time
            FROM document_records AS r JOIN document_bodies AS b ON b.sequence = r.sequence;
        CREATE TRIGGER documents_insert INSTEAD OF INSERT ON documents
        BEGIN
            INSERT INTO document_records (sequence, collection, id, delivery, create_time, update_time)
                VALUES (NEW.sequence, NEW.collection, NEW.id, coalesce(NEW.delivery, NEW.data -> '$.delivery'), NEW.create_time, NEW.update_time);
            INSERT INTO document_bodies (sequence, data) VALUES (last_insert_rowid(), json_remove(NEW.data, '$.delivery'));
        END;
        CREATE TRIGGER documents_update INSTEAD OF UPDATE ON documents
        BEGIN
            UPDATE document_records SET collection = NEW.collection, id = NEW.id,
                delivery = CASE WHEN json_type(NEW.data, '$.delivery') IS NULL THEN NEW.delivery
                    ELSE json_patch(coalesce(NEW.delivery, 'null'), NEW.data -> '$.delivery') END,
                create_time = NEW.create_time, update_time = NEW.update_time
                WHERE sequence = OLD.sequence;
            UPDATE document_bodies SET data = json_remove(NEW.data, '$.delivery') WHERE sequence = OLD.sequence;
        END;
        CREATE TRIGGER documents_delete INSTEAD OF DELETE ON documents
        BEGIN
            DELETE FROM document_records WHERE sequence = OLD.sequence;
            DELETE FROM document_bodies WHERE sequence = OLD.sequence;
        END;
        """,
    ]
}
