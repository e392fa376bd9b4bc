import DocumentStore
import Foundation

/// An SMTP peer that injects one fault, for the faults no real server produces on demand: a
/// dropped connection, a reply that never comes, a malformed or oversized reply, a failed TLS
/// handshake. It runs `python/fault_smtp_peer.py` on a free loopback port, and otherwise behaves
/// as an ordinary server that accepts any sender, recipient and credentials.
public final class FaultSMTPPeer: @unchecked Sendable {
    /// The step of a session where a fault applies, named as `SMTPError.Step` names it, plus
    /// `quit`, whose failure the client ignores.
    public enum Step: String, Sendable, CaseIterable, CustomStringConvertible {
        case greeting = "greeting"
        /// EHLO only. HELO gets its normal reply.
        case hello = "ehlo"
        case startTLS = "starttls"
        /// The first reply to an AUTH command.
        case authentication = "auth"
        case mailFrom = "mail"
        case recipients = "rcpt"
        case data = "data"
        /// The reply to the final dot of the message data.
        case messageData = "message"
        case quit = "quit"

        public var description: String { rawValue }
    }

    /// What the peer does instead of its normal reply.
    public enum Fault: Sendable, CustomStringConvertible {
        /// Sends this reply line instead, and closes the connection after a 421 reply.
        case reply(String, at: Step)
        /// Closes the connection instead of replying.
        case drop(at: Step)
        /// Never replies, and keeps the connection open until the client closes it.
        case stall(at: Step)
        /// Sends `hello there`, which is not a reply.
        case malformed(at: Step)
        /// Sends the normal reply code as a valid three-line reply: `first`, `second`, `last`.
        /// At `startTLS` it needs `Options.completesTLS`, because a TLS handshake follows.
        case multiline(at: Step)
        /// Sends a reply line of 100,000 octets with the normal reply code.
        case oversized(at: Step)
        /// Offers STARTTLS, replies 220, then replies to the client's first handshake bytes with
        /// bytes that are not TLS.
        case tlsFailure
        /// Offers STARTTLS and rejects it with 454.
        case startTLSRefused
        /// Sends a plaintext `554 5.7.0 injected before TLS` in the same write as the 220 to
        /// STARTTLS, then completes the TLS handshake, as a man in the middle can (STARTTLS
        /// response injection). Needs `Options.completesTLS`.
        case startTLSResponseInjection

        var arguments: [String] {
            switch self {
            case .reply(let text, let step): ["--reply", text, "--step", step.rawValue]
            case .drop(let step): ["--drop", "--step", step.rawValue]
            case .stall(let step): ["--stall", "--step", step.rawValue]
            case .malformed(let step): ["--malformed", "--step", step.rawValue]
            case .multiline(let step): ["--multiline", "--step", step.rawValue]
            case .oversized(let step): ["--oversized", "--step", step.rawValue]
            case .tlsFailure: ["--tls-failure"]
            case .startTLSRefused: ["--starttls-refused"]
            case .startTLSResponseInjection: ["--starttls-injection"]
            }
        }

        /// The step the fault applies at.
        public var step: Step {
            switch self {
            case .reply(_, let step), .drop(let step), .stall(let step), .malformed(let step), .multiline(let step), .oversized(let step):
                step
            case .tlsFailure, .startTLSRefused, .startTLSResponseInjection:
                .startTLS
            }
        }

        public var description: String { arguments.joined(separator: " ") }
    }

    /// What the peer offers, and where its fault applies.
    public struct Options: Sendable {
        /// The fault to inject; `nil` runs a healthy server.
        public var fault: Fault?
        /// Whether EHLO lists AUTH PLAIN LOGIN. A fault at `authentication` offers it anyway.
        public var offersAuthentication: Bool
        /// Whether EHLO lists PIPELINING, so the client may send MAIL, RCPT and DATA at once.
        public var offersPipelining: Bool
        /// Whether the peer offers STARTTLS and completes the TLS handshake, with a self-signed
        /// certificate for 127.0.0.1 made by the `openssl` program (`caFile`). Without it, a
        /// fault at `startTLS` still offers STARTTLS, but the peer can never complete it.
        public var completesTLS: Bool
        /// Applies the fault only in the first this many connections; `nil` applies it in every
        /// connection.
        public var faultyConnections: Int?
        /// At the transaction steps (`mailFrom` to `messageData`), applies the fault only in this
        /// mail transaction of each connection, counting from 1. With `nil` it applies in every one.
        public var faultyTransaction: Int?
        /// How long each connection waits before its greeting, so that a test can queue all of
        /// its messages before the first connection can carry one.
        public var greetingDelay: Duration?

        public init(
            fault: Fault? = nil, offersAuthentication: Bool = false, offersPipelining: Bool = true, completesTLS: Bool = false,
            faultyConnections: Int? = nil, faultyTransaction: Int? = nil, greetingDelay: Duration? = nil
        ) {
            self.fault = fault
            self.offersAuthentication = offersAuthentication
            self.offersPipelining = offersPipelining
            self.completesTLS = completesTLS
            self.faultyConnections = faultyConnections
            self.faultyTransaction = faultyTransaction
            self.greetingDelay = greetingDelay
        }
    }

    /// The peer's counters, read from its status file.
    public struct Status: Sendable, Equatable, Decodable, CustomStringConvertible {
        /// Connections accepted so far.
        public var connections: Int
        /// Connections that neither side has closed yet.
        public var openConnections: Int
        /// Messages whose final dot arrived.
        public var messagesReceived: Int
        /// Messages whose final dot got a 2xx reply, whether or not the client could read it.
        public var messagesAccepted: Int
        /// Times the fault replaced a normal reply.
        public var faultsApplied: Int
        /// Commands that had arrived by the time the peer read the final dot before them: the
        /// client sent them in the same write as the message data.
        public var pipelinedCommands: Int

        public var description: String {
            "connections \(connections), open \(openConnections), messages received \(messagesReceived), accepted \(messagesAccepted), faults applied \(faultsApplied), pipelined after data \(pipelinedCommands)"
        }
    }

    public let port: Int
    /// The peer's self-signed certificate, to trust as the CA, with `Options.completesTLS`.
    public let caFile: String?
    private let directory: URL
    private let statusFile: URL
    private let child: ChildProcess

    /// Starts the peer and returns once it listens.
    public static func start(_ options: Options = Options()) async throws -> FaultSMTPPeer {
        let directory = try TestEnvironment.makeTemporaryDirectory()
        let statusFile = directory.appendingPathComponent("status.json")

        var arguments = [TestEnvironment.pythonScript("fault_smtp_peer.py"), "--status", statusFile.path]
        arguments += options.fault?.arguments ?? []
        if options.offersAuthentication { arguments.append("--offer-auth") }
        if !options.offersPipelining { arguments.append("--no-pipelining") }
        if let count = options.faultyConnections { arguments += ["--faulty-connections", String(count)] }
        if let number = options.faultyTransaction { arguments += ["--faulty-transaction", String(number)] }
        if let delay = options.greetingDelay {
            arguments += ["--greeting-delay", String(Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)]
        }

        var caFile: String?
        if options.completesTLS {
            let (certificate, key) = try await makeCertificate(in: directory)
            arguments += ["--tls-cert", certificate, "--tls-key", key]
            caFile = certificate
        }

        let child = try ChildProcess(executable: try TestEnvironment.python(), arguments: arguments, environment: ["PYTHONDONTWRITEBYTECODE": "1"])
        let readyLine = try await child.firstOutputLine(timeout: TestEnvironment.patience)
        guard let ready = try? JSONValue(parsing: readyLine), let port = ready[path: "port"]?.numberValue else {
            throw TestEnvironmentError("the fault SMTP peer did not report its port; it printed \(readyLine), and its log: \(child.standardError)")
        }
        return FaultSMTPPeer(child: child, port: Int(port), caFile: caFile, directory: directory, statusFile: statusFile)
    }

    private init(child: ChildProcess, port: Int, caFile: String?, directory: URL, statusFile: URL) {
        self.child = child
        self.port = port
        self.caFile = caFile
        self.directory = directory
        self.statusFile = statusFile
    }

    /// Makes a self-signed P-256 certificate for the IP address 127.0.0.1, valid for a day, and
    /// returns the paths of the certificate and its key.
    private static func makeCertificate(in directory: URL) async throws -> (certificate: String, key: String) {
        let certificate = directory.appendingPathComponent("peer-certificate.pem").path
        let key = directory.appendingPathComponent("peer-key.pem").path
        let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        guard let openssl = searchPath.split(separator: ":").map({ "\($0)/openssl" }).first(where: FileManager.default.isExecutableFile) else {
            throw TestEnvironmentError("the openssl program was not found in PATH; make test installs it with the Debian package openssl")
        }

        let child = try ChildProcess(
            executable: openssl,
            arguments: [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
            ])
        child.closeInput()
        let status = try await child.waitForExit(timeout: TestEnvironment.patience)
        guard status == 0 else {
            throw TestEnvironmentError("openssl failed to make the peer's certificate (status \(status)): \(child.standardError)")
        }
        return (certificate, key)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    public func stop() {
        child.closeInput()
        child.terminate()
    }

    /// The peer's log: one line per connection, fault and message.
    public var log: String { child.standardError }

    /// Reads the counters as the peer last wrote them. The peer writes the file before it reports its
    /// port, so the file always exists.
    public func status() throws -> Status {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Status.self, from: Data(contentsOf: statusFile))
    }

    /// Waits until `condition` holds for the counters and returns them, or throws after `timeout`.
    @discardableResult
    public func waitForStatus(timeout: Duration = .seconds(10), _ condition: (Status) -> Bool) async throws -> Status {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let status = try status()
            if condition(status) { return status }
            guard ContinuousClock.now < deadline else {
                throw TestEnvironmentError("the fault SMTP peer did not reach the expected status within \(timeout); it has \(status), and its log:\n\(log)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// This process's open file descriptors that are TCP connections to the peer, each described
    /// as `descriptor 12 (CLOSE_WAIT)`. A client that closed every socket it opened leaves none.
    ///
    /// Unlike a count of all of `/proc/self/fd`, this ignores descriptors that tests running in
    /// parallel open and close. Linux only: it matches the socket inodes of `/proc/self/fd` with
    /// the connections in `/proc/net/tcp` and `/proc/net/tcp6`.
    public func descriptorsConnectedToPeer() throws -> [String] {
        var descriptorsBySocketInode: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            // A descriptor may close between the listing and this read; it is not a leak then.
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)"),
                target.hasPrefix("socket:["), target.hasSuffix("]")
            else { continue }
            descriptorsBySocketInode[String(target.dropFirst("socket:[".count).dropLast())] = name
        }

        var found: [String] = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            for line in try Self.readProcFile(table).split(separator: "\n").dropFirst() {
                // Columns: sl, local_address, rem_address, st, tx_queue:rx_queue, tr:tm->when,
                // retrnsmt, uid, timeout, inode. Addresses are hexadecimal ADDRESS:PORT.
                let columns = line.split(separator: " ")
                guard columns.count > 9,
                    let remotePort = columns[2].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
                    remotePort == port,
                    let descriptor = descriptorsBySocketInode[String(columns[9])]
                else { continue }
                found.append("descriptor \(descriptor) (\(Self.tcpStateName(columns[3])))")
            }
        }
        return found
    }

    /// Waits until no descriptor of this process is connected to the peer, and returns those
    /// still connected after `timeout`: an empty list when every one closed in time.
    public func descriptorsConnectedToPeer(after timeout: Duration) async throws -> [String] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let connected = try descriptorsConnectedToPeer()
            guard !connected.isEmpty, ContinuousClock.now < deadline else { return connected }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Reads a file of `/proc` to its end. Such files report a size of 0 and come in pieces,
    /// one per `read`, so a reader that trusts the size or stops at the first short read gets only
    /// part of a long `/proc/net/tcp`.
    private static func readProcFile(_ path: String) throws -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw TestEnvironmentError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }

        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(descriptor, &chunk, chunk.count)
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw TestEnvironmentError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { return String(decoding: contents, as: UTF8.self) }
            contents += chunk[0..<count]
        }
    }

    /// Returns the name of a TCP state as `/proc/net/tcp` writes it in hexadecimal (`include/net/tcp_states.h`).
    private static func tcpStateName(_ code: Substring) -> String {
        let names = [
            "01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
            "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING",
        ]
        return names[String(code)] ?? "state \(code)"
    }
}
