import Foundation

/// A private Postfix instance (Debian package `postfix`) for the tests. Its configuration, queue
/// and data folders live in a temporary folder, its `smtpd` listens on a free port of 127.0.0.1,
/// and it relays every message to `[127.0.0.1]:relayPort`, normally an `SMTPTestServer`.
///
/// The system's Postfix is neither started nor changed: the instance reads the shared files in
/// `/etc/postfix` (`postfix-files`, `dynamicmaps.cf`) but writes only inside its temporary
/// folder. Starting needs root, because the `postfix` command is reserved for the superuser.
public final class PostfixRelay: @unchecked Sendable {
    /// The host name Postfix uses in its greeting, in EHLO and in its `Received:` header. A fixed
    /// name keeps it different from the name the relay target greets with (`localhost` for
    /// `SMTPTestServer`), because the Postfix SMTP client treats a server that greets with its own
    /// `myhostname` as a mail loop and does not deliver. The `.test` top-level domain is reserved
    /// for testing (RFC 2606).
    public static let hostName = "relay.postfix.test"

    static let program = "/usr/sbin/postfix"

    /// The port of Postfix's `smtpd` on 127.0.0.1.
    public let port: Int
    /// The port on 127.0.0.1 that Postfix relays every message to.
    public let relayPort: Int
    /// The temporary folder with the instance's `config`, `queue` and `data` folders and its log.
    public let directory: URL
    private let stopper: Stopper

    private init(port: Int, relayPort: Int, directory: URL, stopper: Stopper) {
        self.port = port
        self.relayPort = relayPort
        self.directory = directory
        self.stopper = stopper
    }

    /// Starts a new instance that relays to `127.0.0.1:relayPort`, and waits until its `smtpd`
    /// accepts connections.
    public static func start(relayingTo relayPort: Int, timeout: Duration = .seconds(30)) async throws -> PostfixRelay {
        try checkPrerequisites()
        let deadline = ContinuousClock.now.advanced(by: timeout)

        let directory = try TestEnvironment.makeTemporaryDirectory()
        // Postfix daemons run as the `postfix` user and must be able to enter the folder.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        let configDirectory = directory.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: configDirectory, withIntermediateDirectories: false)
        // `postfix` fails unless queue_directory exists, because it changes into it first.
        // `postfix start` then creates the queue subfolders and data_directory (`post-install
        // create-missing`), owned by the postfix user and, for maildrop and public, by the
        // postdrop group. `postfix set-permissions` is not used because it also resets the
        // permissions of the shared program files.
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("queue"), withIntermediateDirectories: false,
            attributes: [.posixPermissions: 0o755])

        let stopper = try Stopper(configDirectory: configDirectory, outputFile: directory.appendingPathComponent("postfix-stop.out"))
        do {
            // The port is free when checked but could be taken before Postfix binds it, so a
            // start that fails on a port in use is retried with another port.
            let maxAttempts = 3
            for attempt in 1...maxAttempts {
                let port = try TestEnvironment.unusedLoopbackPort()
                try writeConfiguration(directory: directory, port: port, relayPort: relayPort)

                let start = try ChildProcess(executable: program, arguments: ["-c", configDirectory.path, "start"])
                start.closeInput()
                let status = try await start.waitForExit(timeout: deadline - ContinuousClock.now)
                if status == 0 {
                    try await waitUntilAcceptingConnections(port: port, deadline: deadline, logFile: logFile(in: directory))
                    return PostfixRelay(port: port, relayPort: relayPort, directory: directory, stopper: stopper)
                }

                let log = readLog(logFile(in: directory))
                if attempt < maxAttempts, log.contains("Address already in use") { continue }
                throw TestEnvironmentError(
                    "postfix start failed with status \(status): \(start.standardOutput)\(start.standardError)\nThe Postfix log \(logFile(in: directory).path):\n\(log)")
            }
            // The loop above returns or throws in its last attempt.
            throw TestEnvironmentError("postfix start failed \(maxAttempts) times")
        } catch {
            // Stops an instance whose start timed out or whose port accepted no connection. After
            // a failed start, postfix stop only reports that Postfix is not running.
            stopper.closeInput()
            throw error
        }
    }

    /// Fails with a message naming the fix when Postfix is missing or the tests do not run as
    /// root, so that a run without Postfix cannot pass.
    private static func checkPrerequisites() throws {
        guard FileManager.default.isExecutableFile(atPath: program) else {
            throw TestEnvironmentError("Postfix is not installed: \(program) was not found. Run make test, which installs the Debian package postfix.")
        }
        guard geteuid() == 0 else {
            throw TestEnvironmentError(
                "The Postfix relay tests must run as root, because the postfix command that starts the private instance is reserved for the superuser.")
        }
    }

    /// The instance's log (`maillog_file`), written by Postfix's `postlogd` service.
    public var logFile: URL {
        Self.logFile(in: directory)
    }

    /// The instance's log so far, or an empty string before the first line.
    public var log: String {
        Self.readLog(logFile)
    }

    private static func logFile(in directory: URL) -> URL {
        directory.appendingPathComponent("maillog")
    }

    private static func readLog(_ file: URL) -> String {
        (try? String(contentsOf: file, encoding: .utf8)) ?? ""
    }

    /// Waits until `condition` holds for the log, or fails with the log in the message.
    public func waitForLog(timeout: Duration = TestEnvironment.patience, _ condition: (String) -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            if condition(log) { return }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestEnvironmentError("the expected Postfix log line did not appear within \(timeout); the log \(logFile.path):\n\(log)")
    }

    /// Stops the instance with `postfix stop`, which returns once the master process has exited.
    public func stop(timeout: Duration = .seconds(30)) async throws {
        stopper.closeInput()
        let status = try await stopper.waitForExit(timeout: timeout)
        guard status == 0 else {
            throw TestEnvironmentError("postfix stop failed with status \(status): \(stopper.output)\nThe Postfix log:\n\(log)")
        }
    }

    /// Stops the instance when a test ends without calling `stop()`, for example after a failed
    /// `#require`. The stopper runs `postfix stop` on its own, so this does not wait.
    deinit {
        stopper.closeInput()
    }

    /// Polls the `smtpd` port until a connection succeeds.
    private static func waitUntilAcceptingConnections(port: Int, deadline: ContinuousClock.Instant, logFile: URL) async throws {
        while true {
            if acceptsConnections(port: port) { return }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestEnvironmentError("Postfix started but 127.0.0.1:\(port) accepted no connection; the Postfix log \(logFile.path):\n\(readLog(logFile))")
    }

    /// A shell that runs `postfix stop` once its standard input reaches end of file. Only the
    /// test process has the write end of that pipe open, so end of file comes from `closeInput()`
    /// or from the end of the test process, even when it is killed and no deinit runs. The master
    /// process that `postfix start` leaves runs as a daemon, so nothing else would stop it.
    private final class Stopper: @unchecked Sendable {
        private let process: SpawnedProcess
        private let input = Pipe()
        private let outputFile: URL

        init(configDirectory: URL, outputFile: URL) throws {
            self.outputFile = outputFile
            guard FileManager.default.createFile(atPath: outputFile.path, contents: nil) else {
                throw TestEnvironmentError("creating \(outputFile.path) failed")
            }
            let output = try FileHandle(forWritingTo: outputFile)
            defer { try? output.close() }

            process = try SpawnedProcess(
                executable: "/bin/sh",
                arguments: ["-c", #"cat > /dev/null; exec "$1" -c "$2" stop"#, "sh", PostfixRelay.program, configDirectory.path],
                standardInput: input.fileHandleForReading.fileDescriptor,
                standardOutput: output.fileDescriptor, standardError: output.fileDescriptor)
            try? input.fileHandleForReading.close()
        }

        /// Closes the pipe, so the shell runs `postfix stop` now. Calling it again does nothing.
        func closeInput() {
            try? input.fileHandleForWriting.close()
        }

        /// The output of `postfix stop`, which is empty when it succeeds.
        var output: String {
            (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        }

        /// Waits for the shell to exit, up to `timeout`, and returns the exit status of `postfix stop`.
        func waitForExit(timeout: Duration) async throws -> Int32 {
            let deadline = ContinuousClock.now.advanced(by: timeout)
            while process.isRunning {
                guard ContinuousClock.now < deadline else {
                    throw TestEnvironmentError("postfix stop did not exit within \(timeout); its output: \(output)")
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            return process.terminationStatus
        }
    }

    // MARK: Configuration

    /// Writes `main.cf` and `master.cf`. Every route out of the instance ends at
    /// `[127.0.0.1]:relayPort`: no local delivery, no DNS, and no other next hop.
    private static func writeConfiguration(directory: URL, port: Int, relayPort: Int) throws {
        let configDirectory = directory.appendingPathComponent("config")
        let mainConfiguration = """
            compatibility_level = 3.6
            queue_directory = \(directory.appendingPathComponent("queue").path)
            data_directory = \(directory.appendingPathComponent("data").path)
            myhostname = \(hostName)

            # Listen on loopback only, and accept relaying only from loopback clients.
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            mynetworks = 127.0.0.0/8
            smtpd_relay_restrictions = permit_mynetworks, reject

            # No domain is local, so every recipient is relayed, and every relayed message (bounces
            # included) goes to the pinned relayhost. The brackets turn off the MX lookup, and with
            # DNS disabled even a host name would be looked up only in /etc/hosts. smtpd does not
            # look up its clients' names either.
            mydestination =
            relayhost = [127.0.0.1]:\(relayPort)
            smtp_fallback_relay =
            smtp_dns_support_level = disabled
            smtp_host_lookup = native
            smtpd_peername_lookup = no
            alias_maps =
            alias_database =

            # Retry deferred mail within seconds, not minutes.
            queue_run_delay = 1s
            minimal_backoff_time = 1s
            maximal_backoff_time = 2s

            # Log to a file of this instance through the postlog service instead of syslog.
            maillog_file = \(logFile(in: directory).path)
            maillog_file_prefixes = \(directory.path)
            """

        // The columns are: service, type, private, unprivileged, chroot, wakeup, process limit,
        // command. Nothing runs chrooted, because the queue folder contains no copies of the
        // system files a chroot needs.
        let masterConfiguration = """
            127.0.0.1:\(port) inet n - n - - smtpd
            pickup     unix  n - n 60    1 pickup
            cleanup    unix  n - n -     0 cleanup
            qmgr       unix  n - n 300   1 qmgr
            rewrite    unix  - - n -     - trivial-rewrite
            bounce     unix  - - n -     0 bounce
            defer      unix  - - n -     0 bounce
            trace      unix  - - n -     0 bounce
            verify     unix  - - n -     1 verify
            flush      unix  n - n 1000? 0 flush
            proxymap   unix  - - n -     - proxymap
            proxywrite unix  - - n -     1 proxymap
            smtp       unix  - - n -     - smtp
            relay      unix  - - n -     - smtp
            showq      unix  n - n -     - showq
            error      unix  - - n -     - error
            retry      unix  - - n -     - error
            discard    unix  - - n -     - discard
            anvil      unix  - - n -     1 anvil
            scache     unix  - - n -     1 scache
            postlog    unix-dgram n - n - 1 postlogd
            """

        try Data((mainConfiguration + "\n").utf8).write(to: configDirectory.appendingPathComponent("main.cf"))
        try Data((masterConfiguration + "\n").utf8).write(to: configDirectory.appendingPathComponent("master.cf"))
    }

    // MARK: Sockets

    private static func acceptsConnections(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }

        var address = loopbackAddress(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return connected == 0
    }

    private static func loopbackAddress(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return address
    }
}
