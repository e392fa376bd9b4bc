/// The database layout in the schema `trigger_email`, built by numbered migrations. The table
/// `trigger_email.schema_version` contains the number of migrations applied.
enum PostgresSchema {
    static let name = "trigger_email"

    /// The channel that the trigger notifies on every insert, update and delete.
    static let changeChannel = "trigger_email_changes"

    /// The delivery states that the claim query's partial index covers, besides a missing state.
    static let indexedReadyStates = ["PENDING", "RETRY"]

    /// A key for `pg_advisory_xact_lock`, so that processes starting together migrate one at a
    /// time. The number is arbitrary and only has to differ from other applications' keys.
    static let migrationLockKey: Int64 = 0x7472_6967_6765_72

    static var version: Int { migrations.count }

    /// Every text column uses the "C" collation, so comparisons are bytewise: IDs match exactly
    /// and lease timestamps in RFC 3339 form sort by time whatever the database's locale.
    static let migrations: [String] = [
        """
        CREATE FUNCTION trigger_email.random_id() RETURNS text LANGUAGE sql VOLATILE AS $$
            SELECT string_agg(
                substr('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', get_byte(random_bytes, position) % 62 + 1, 1),
                '' ORDER BY position)
            FROM (SELECT sha256(uuid_send(gen_random_uuid())) AS random_bytes) AS source, generate_series(0, 19) AS position
        $$;

        CREATE FUNCTION trigger_email.now_ms() RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
            SELECT date_trunc('milliseconds', clock_timestamp())
        $$;

        CREATE TABLE trigger_email.documents (
            sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            collection text COLLATE "C" NOT NULL
                CHECK (collection ~ '^[A-Za-z0-9_-]{1,128}$'),
            id text COLLATE "C" NOT NULL DEFAULT trigger_email.random_id()
                CHECK (id ~ '^[A-Za-z0-9_-]{1,128}$'),
            data jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
            create_time timestamptz NOT NULL DEFAULT trigger_email.now_ms(),
            update_time timestamptz NOT NULL DEFAULT trigger_email.now_ms(),
            delivery_state text COLLATE "C" GENERATED ALWAYS AS (data -> 'delivery' ->> 'state') STORED,
            lease_expire_time text COLLATE "C" GENERATED ALWAYS AS (data -> 'delivery' ->> 'leaseExpireTime') STORED,
            UNIQUE (collection, id)
        );

        CREATE INDEX documents_by_state ON trigger_email.documents (collection, delivery_state, sequence);
        CREATE INDEX documents_ready ON trigger_email.documents (collection, sequence)
            WHERE delivery_state IS NULL OR delivery_state IN ('PENDING', 'RETRY');
        CREATE INDEX documents_by_lease ON trigger_email.documents (collection, lease_expire_time)
            WHERE delivery_state = 'PROCESSING';

        CREATE FUNCTION trigger_email.notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('trigger_email_changes', '');
            RETURN NULL;
        END
        $$;

        CREATE TRIGGER documents_changed AFTER INSERT OR UPDATE OR DELETE ON trigger_email.documents
            FOR EACH STATEMENT EXECUTE FUNCTION trigger_email.notify_change();
        """,
        // Two defaults that each read the clock can fall on either side of a millisecond, and a
        // new document's update time must equal its create time. The statement's start time is
        // one reading for both.
        """
        CREATE FUNCTION trigger_email.statement_time_ms() RETURNS timestamptz LANGUAGE sql STABLE AS $$
            SELECT date_trunc('milliseconds', statement_timestamp())
        $$;

        ALTER TABLE trigger_email.documents
            ALTER COLUMN create_time SET DEFAULT trigger_email.statement_time_ms(),
            ALTER COLUMN update_time SET DEFAULT trigger_email.statement_time_ms();
        """,
    ]
}
