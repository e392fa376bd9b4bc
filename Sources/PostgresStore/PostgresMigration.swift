/// Brings the schema up to date when a store opens.
enum PostgresMigration {
    /// Applies the missing migrations in one transaction. An advisory lock makes processes that
    /// start together take turns, so each migration runs once.
    static func migrate(_ connection: PostgresConnection, timeout: Duration) throws {
        // Reading the version without the lock first spares the usual case, an up-to-date
        // schema, a transaction and a lock.
        if try currentVersion(connection, timeout: timeout) == PostgresSchema.version { return }

        try connection.query("BEGIN", timeout: timeout)
        do {
            try connection.query("SELECT pg_advisory_xact_lock($1)", [String(PostgresSchema.migrationLockKey)], timeout: timeout)
            try connection.query("CREATE SCHEMA IF NOT EXISTS \(PostgresSchema.name)", timeout: timeout)
            try connection.query("CREATE TABLE IF NOT EXISTS \(PostgresSchema.name).schema_version (version integer NOT NULL)", timeout: timeout)

            let current = try currentVersion(connection, timeout: timeout) ?? 0
            guard current <= PostgresSchema.version else {
                throw PostgresError(
                    .protocolViolation,
                    "The database was written by a newer trigger-email (schema \(current), this one knows \(PostgresSchema.version)); upgrade trigger-email.")
            }
            for migration in PostgresSchema.migrations[current...] {
                try connection.query(migration, timeout: timeout)
            }
            try connection.query("DELETE FROM \(PostgresSchema.name).schema_version", timeout: timeout)
            try connection.query("INSERT INTO \(PostgresSchema.name).schema_version VALUES ($1)", [String(PostgresSchema.version)], timeout: timeout)
            try connection.query("COMMIT", timeout: timeout)
        } catch {
            if !connection.isBroken { _ = try? connection.query("ROLLBACK", timeout: timeout) }
            throw error
        }
    }

    /// The schema's version, or `nil` when the version table does not exist yet.
    private static func currentVersion(_ connection: PostgresConnection, timeout: Duration) throws -> Int? {
        let exists = try connection.query("SELECT to_regclass('\(PostgresSchema.name).schema_version') IS NOT NULL", timeout: timeout)
        guard exists.text(0, 0) == "t" else { return nil }

        let result = try connection.query("SELECT max(version) FROM \(PostgresSchema.name).schema_version", timeout: timeout)
        return result.isNull(0, 0) ? 0 : Int(result.int64(0, 0))
    }
}
