import Foundation

/// A private PostgreSQL 15 server (Debian package `postgresql-15`) for the tests, one per test
/// process, with a new database for each `createDatabase` call.
///
/// The cluster lives in a temporary folder: `initdb` makes it there, and `postgres` listens on a
/// free port of 127.0.0.1 and puts its Unix socket in the same folder. Only local and 127.0.0.1
/// connections are accepted, with trust authentication. The system's clusters (such as the
/// `main` cluster that the Debian package may start on port 5432) are never used.
///
/// A wrapper shell stops the server and removes the folder once the test process ends, however it
/// ends (see `wrapperScript`).
public final class PostgresServer: Sendable {
    static let programFolder = "/usr/lib/postgresql/15/bin"
    static let runuserProgram = "/usr/sbin/runuser"

    /// The maximum time for `initdb` and the server start together. Other tests run in parallel
    /// and may keep every core busy meanwhile.
    static let startTimeout: Duration = TestEnvironment.patience
    /// The maximum time for one psql command.
    static let psqlTimeout: Duration = TestEnvironment.patience

    /// The port on 127.0.0.1.
    public let port: Int
    /// The superuser role, named after the OS user that ran `initdb`: `postgres` when the tests
    /// run as root, the current user otherwise.
    public let user: String
    /// The temporary folder with the cluster (`data`), the Unix socket, `pg_hba.conf` and the
    /// server log (`postgres.log`). The wrapper shell removes it when the server stops.
    public let directory: URL
    /// The shell that started the server. Its standard input stays open for the rest of the
    /// test process.
    private let wrapper: ChildProcess

    private init(port: Int, user: String, directory: URL, wrapper: ChildProcess) {
        self.port = port
        self.user = user
        self.directory = directory
        self.wrapper = wrapper
    }

    /// The start of the one server of this test process. A failed start is kept too, so every
    /// test that needs the server fails with the same error instead of starting another.
    private static let sharedStart = Task { try await start() }

    /// Returns the server of this test process. The first call starts it, and later calls wait
    /// for the same start.
    public static func shared() async throws -> PostgresServer {
        try await sharedStart.value
    }

    // MARK: Databases

    /// The URL of the `postgres` database, which `createDatabase` and `dropDatabase` connect to.
    public var administrationURL: String {
        url(database: "postgres")
    }

    /// Creates a new, empty database with a unique name and returns its URL,
    /// `postgres://USER@127.0.0.1:PORT/NAME`. Safe to call concurrently.
    public func createDatabase() async throws -> String {
        let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        // template0 accepts no connections, so a concurrent CREATE DATABASE never fails with
        // "source database is being accessed by other users", which template1 (the default) can.
        _ = try await psql(administrationURL, "CREATE DATABASE \(name) TEMPLATE template0")
        return url(database: name)
    }

    /// Drops a database made by `createDatabase`, after terminating its connections.
    /// Throws when `url` names another server or a database that `createDatabase` did not make.
    public func dropDatabase(url: String) async throws {
        let name = try databaseName(in: url)
        _ = try await psql(administrationURL, "DROP DATABASE \(name) WITH (FORCE)")
    }

    /// Runs SQL through psql on a database URL and returns its standard output: unaligned rows
    /// without headers, each ending in a newline. Throws with psql's standard error when psql
    /// fails, for example on an SQL error.
    public func psql(_ url: String, _ sql: String) async throws -> String {
        try await Self.runPSQL(["-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
    }

    private func url(database: String) -> String {
        "postgres://\(user)@127.0.0.1:\(port)/\(database)"
    }

    /// Returns the database name in a URL that `createDatabase` returned, which is then safe to
    /// put into SQL unquoted.
    private func databaseName(in url: String) throws -> String {
        let components = URLComponents(string: url)
        let name = String(components?.path.dropFirst() ?? "")
        let isCreatedName =
            name.hasPrefix("test_") && name.count == 37
            && name.dropFirst(5).allSatisfy { "0123456789abcdef".contains($0) }
        guard components?.scheme == "postgres", components?.host == "127.0.0.1", components?.port == port, isCreatedName else {
            throw TestEnvironmentError("invalid database URL \(url): expected one that createDatabase returned, postgres://\(user)@127.0.0.1:\(port)/test_...")
        }
        return name
    }

    // MARK: Starting

    /// Starts the server. The port is free when checked but could be taken before `postgres`
    /// binds it, so a start that fails on a port in use is retried with another port and a new
    /// cluster.
    private static func start() async throws -> PostgresServer {
        try checkPrograms()
        let user = try superuserName()

        let maxAttempts = 3
        for attempt in 1...maxAttempts {
            do {
                return try await startAttempt(user: user)
            } catch let failure as StartFailure where failure.isPortInUse && attempt < maxAttempts {
                continue
            } catch let failure as StartFailure {
                throw TestEnvironmentError("starting the PostgreSQL test server failed in attempt \(attempt) of \(maxAttempts): \(failure.message)")
            }
        }
        // The loop above returns or throws in its last attempt.
        throw TestEnvironmentError("starting PostgreSQL failed \(maxAttempts) times")
    }

    /// Why one start failed, and whether another port may help.
    private struct StartFailure: Error {
        var message: String
        var isPortInUse: Bool
    }

    private static func startAttempt(user: String) async throws -> PostgresServer {
        let deadline = ContinuousClock.now.advanced(by: startTimeout)
        let directory = try TestEnvironment.makeTemporaryDirectory()
        try writeHostBasedAuthentication(directory: directory)
        let runAsUser = getuid() == 0 ? user : ""
        if !runAsUser.isEmpty {
            try changeOwner(of: directory, to: runAsUser)
        }

        let port = try TestEnvironment.unusedLoopbackPort()
        let wrapper = try ChildProcess(
            executable: "/bin/sh",
            arguments: ["-c", wrapperScript, "sh", directory.path, programFolder, String(port), user, runAsUser],
            directory: directory)
        let server = PostgresServer(port: port, user: user, directory: directory, wrapper: wrapper)

        do {
            try await server.waitUntilAcceptingConnections(deadline: deadline)
            try await server.checkTCPConnection()
            return server
        } catch {
            // The log goes with the folder once the wrapper has stopped the server.
            let log = server.logTail
            wrapper.closeInput()
            _ = try? await wrapper.waitForExit(timeout: .seconds(30))
            if let failure = error as? StartFailure {
                throw StartFailure(message: "\(failure.message)\nThe PostgreSQL log:\n\(log)", isPortInUse: failure.isPortInUse)
            }
            throw TestEnvironmentError("\(error)\nThe PostgreSQL log:\n\(log)")
        }
    }

    /// The shell that runs `initdb`, starts `postgres` in the background, then waits until its
    /// standard input reaches end of file. Only the test process has the write end of that pipe
    /// open, so end of file comes when the test process ends, even when it is killed and no
    /// deinit runs. The shell then sends SIGINT (fast shutdown) to the postmaster, waits for it
    /// to exit, and removes the temporary folder.
    ///
    /// The arguments are the temporary folder, the folder of the PostgreSQL programs, the port,
    /// the superuser role, and the user to run the programs as (empty: the current user).
    /// When `initdb` fails or `postgres` exits, the shell prints `initdb exited with status N`
    /// or `postgres exited with status N`.
    ///
    /// `initdb` runs in the foreground because its own short-lived `postgres` processes also
    /// write `postmaster.pid`, which the shell must not mistake for the server's. The PID that the
    /// shell signals comes from that file because the background job is `runuser`, which on a
    /// signal would send SIGTERM (smart shutdown, which waits for clients) and then SIGKILL.
    /// The shell ignores SIGINT and SIGHUP, so a Ctrl-C that ends the test process does not end
    /// the shell before its cleanup. `initdb` and `postgres` set their own handlers for both.
    private static let wrapperScript = #"""
        trap '' INT HUP
        folder=$1 programs=$2 port=$3 role=$4 run_as=$5
        data=$folder/data
        log=$folder/postgres.log
        run() {
            if [ -n "$run_as" ]; then /usr/sbin/runuser -u "$run_as" -- "$@"; else "$@"; fi
        }
        # The test process may be gone, and with it the reader of this output.
        report() {
            (trap '' PIPE; echo "$1")
        }

        server=
        if run "$programs/initdb" --pgdata="$data" --username="$role" --encoding=UTF8 \
            --locale=C.UTF-8 --auth=trust --no-sync </dev/null >>"$log" 2>&1
        then
            # The cluster is thrown away, so it needs no durability. Tests run in parallel,
            # each with its own connections, hence more than the default 100.
            (
                run "$programs/postgres" -D "$data" -p "$port" -k "$folder" \
                    -c listen_addresses=127.0.0.1 -c hba_file="$folder/pg_hba.conf" \
                    -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
                    -c max_connections=300 </dev/null >>"$log" 2>&1
                report "postgres exited with status $?"
            ) &
            server=$!
        else
            report "initdb exited with status $?"
        fi

        cat >/dev/null
        exec >/dev/null 2>&1
        if [ -n "$server" ]; then
            # The end may come before the postmaster has written its PID.
            while [ ! -s "$data/postmaster.pid" ] && kill -0 "$server"; do sleep 0.1; done
            if [ -s "$data/postmaster.pid" ]; then kill -INT "$(head -n 1 "$data/postmaster.pid")"; fi
            wait "$server"
        fi
        rm -rf "$folder"
        """#

    /// Fails with a message naming the fix when PostgreSQL 15 is missing, so that a run without
    /// it cannot pass.
    private static func checkPrograms() throws {
        var programs = ["initdb", "postgres", "psql"].map { "\(programFolder)/\($0)" }
        if getuid() == 0 { programs.append(runuserProgram) }
        for program in programs where !FileManager.default.isExecutableFile(atPath: program) {
            throw TestEnvironmentError(
                "PostgreSQL 15 is not installed: \(program) was not found. Run make test, which installs the Debian packages libpq-dev and postgresql-15.")
        }
    }

    /// Returns the OS user that runs `initdb` and `postgres`, whose name `initdb` gives the
    /// superuser role. Both programs reject root, so root runs them as `postgres`, the system
    /// user that the Debian package creates.
    private static func superuserName() throws -> String {
        if getuid() == 0 { return "postgres" }
        guard let entry = getpwuid(getuid()) else {
            throw TestEnvironmentError("the current user (uid \(getuid())) has no passwd entry, so PostgreSQL has no superuser name")
        }
        return String(cString: entry.pointee.pw_name)
    }

    private static func changeOwner(of directory: URL, to user: String) throws {
        guard let entry = getpwnam(user) else {
            throw TestEnvironmentError(
                "the system user \(user) is missing. Run make test, which installs the Debian package postgresql-15, which creates it.")
        }
        guard chown(directory.path, entry.pointee.pw_uid, entry.pointee.pw_gid) == 0 else {
            throw TestEnvironmentError("chown of \(directory.path) to \(user) failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Writes the `pg_hba.conf` that `postgres` reads through `hba_file`: trust for the Unix
    /// socket and for 127.0.0.1, and no other entry, so `::1` and other addresses are rejected.
    private static func writeHostBasedAuthentication(directory: URL) throws {
        let rules = """
            # TYPE  DATABASE  USER  ADDRESS       METHOD
            local   all       all                 trust
            host    all       all   127.0.0.1/32  trust

            """
        try Data(rules.utf8).write(to: directory.appendingPathComponent("pg_hba.conf"))
    }

    /// Polls with `SELECT 1` over the Unix socket in `directory` until it succeeds. The socket
    /// belongs to this server alone, unlike the TCP port, which another program could hold.
    private func waitUntilAcceptingConnections(deadline: ContinuousClock.Instant) async throws {
        let socketArguments = ["-h", directory.path, "-p", String(port), "-U", user, "-d", "postgres", "-c", "SELECT 1"]
        while true {
            let output = wrapper.standardOutput
            if output.contains(" exited with status ") {
                let log = logTail
                throw StartFailure(
                    message: output.trimmingCharacters(in: .whitespacesAndNewlines),
                    isPortInUse: log.contains("Address already in use"))
            }
            guard wrapper.process.isRunning else {
                throw StartFailure(message: "the PostgreSQL wrapper shell exited early: \(wrapper.standardError)", isPortInUse: false)
            }
            if (try? await Self.runPSQL(socketArguments, timeout: .seconds(10))) != nil { return }
            guard ContinuousClock.now < deadline else {
                throw StartFailure(message: "PostgreSQL accepted no connection within \(Self.startTimeout)", isPortInUse: false)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Checks that the URLs reach this server over TCP, which also tests `pg_hba.conf`.
    private func checkTCPConnection() async throws {
        let dataDirectory = try await psql(administrationURL, "SHOW data_directory")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let expected = directory.appendingPathComponent("data").path
        guard dataDirectory == expected else {
            throw TestEnvironmentError("127.0.0.1:\(port) is served by a PostgreSQL server with the data directory \(dataDirectory), expected \(expected)")
        }
    }

    /// The last 40 lines of the server log, or an empty string before the first line.
    private var logTail: String {
        let log = (try? String(contentsOf: directory.appendingPathComponent("postgres.log"), encoding: .utf8)) ?? ""
        return log.split(separator: "\n", omittingEmptySubsequences: false).suffix(40).joined(separator: "\n")
    }

    // MARK: Helpers

    /// Runs psql without a startup file, printing unaligned rows without headers or notices,
    /// and returns its standard output.
    private static func runPSQL(_ arguments: [String], timeout: Duration = psqlTimeout) async throws -> String {
        let process = try ChildProcess(executable: "\(programFolder)/psql", arguments: ["-X", "-q", "-A", "-t"] + arguments)
        process.closeInput()
        let status = try await process.waitForExit(timeout: timeout)
        guard status == 0 else {
            throw TestEnvironmentError("psql failed with status \(status): \(process.standardError)")
        }
        return process.standardOutput
    }
}
