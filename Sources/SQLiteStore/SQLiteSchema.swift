/// The database layout, versioned with `PRAGMA user_version` so that later versions can migrate
/// a file in place.
enum SQLiteSchema {
    static let version = 3

    /// The delivery states that the claim query's partial index covers, besides a missing state.
    static let indexedReadyStates = ["PENDING", "RETRY"]

    /// One table for every collection. `delivery_state` and `lease_expire_time` are computed
    /// from the JSON so the "ready to send" and "lease expired" queries use an index instead of
    /// parsing every document.
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
    ]
}
