import DocumentStore
import Foundation

/// A real SMTP server for the tests: aiosmtpd, started on a free loopback port by
/// `python/smtp_test_server.py`. Every message it accepts is parsed by Python's `email` package
/// and kept as a JSON record in a spool folder.
public final class SMTPTestServer: @unchecked Sendable {
    public struct Options: Sendable {
        public enum TLSMode: String, Sendable { case none, starttls, smtps }

        public var tls: TLSMode = .none
        /// `USER:PASSWORD` pairs accepted by AUTH PLAIN and LOGIN.
        public var users: [String] = []
        public var requireAuthentication = false
        /// The AUTH mechanisms offered; empty offers PLAIN and LOGIN.
        public var authMechanisms: [String] = []
        /// Recipients containing one of these get 550.
        public var rejectRecipients: [String] = []
        /// Recipients containing one of these get 450.
        public var deferRecipients: [String] = []
        /// Seconds the server waits before replying to the message data.
        public var dataDelay: Double = 0
        /// Whether the server delays its reply to the message data until `releaseData()`. An
        /// attempt then stays PROCESSING for as long as a test needs, however loaded the
        /// machine. A fixed delay would have to guess that time.
        public var holdsData = false
        /// The port to listen on; 0 takes any free one.
        public var port: Int = 0
        /// Whether the server offers SMTPUTF8.
        public var offersSMTPUTF8 = false
        /// `USER:TOKEN-PREFIX` pairs accepted by AUTH XOAUTH2: the user with any bearer token
        /// that starts with the prefix.
        public var xoauth2Users: [String] = []
        /// The reply to a rejected XOAUTH2 token: `challenge` (334 with a JSON error, then 535,
        /// as Gmail does), `535` or `454`.
        public var xoauth2Rejection = "challenge"

        public init(
            tls: TLSMode = .none, users: [String] = [], requireAuthentication: Bool = false, authMechanisms: [String] = [],
            rejectRecipients: [String] = [], deferRecipients: [String] = [], dataDelay: Double = 0, holdsData: Bool = false,
            port: Int = 0, offersSMTPUTF8: Bool = false, xoauth2Users: [String] = [], xoauth2Rejection: String = "challenge"
        ) {
            self.tls = tls
            self.users = users
            self.requireAuthentication = requireAuthentication
            self.authMechanisms = authMechanisms
            self.rejectRecipients = rejectRecipients
            self.deferRecipients = deferRecipients
            self.dataDelay = dataDelay
            self.holdsData = holdsData
            self.port = port
            self.offersSMTPUTF8 = offersSMTPUTF8
            self.xoauth2Users = xoauth2Users
            self.xoauth2Rejection = xoauth2Rejection
        }
    }

    public let port: Int
    /// The PEM file of the CA that signed the server's certificate, in TLS modes.
    public let caFile: String?
    public let spool: URL
    private let child: ChildProcess
    private let releaseFile: URL

    public static func start(_ options: Options = Options()) async throws -> SMTPTestServer {
        let directory = try TestEnvironment.makeTemporaryDirectory()
        let spool = directory.appendingPathComponent("spool")
        try FileManager.default.createDirectory(at: spool, withIntermediateDirectories: true)

        var arguments = [TestEnvironment.pythonScript("smtp_test_server.py"), "--spool", spool.path, "--port", String(options.port)]
        arguments += ["--tls", options.tls.rawValue]
        if options.tls != .none { arguments += ["--cert-dir", directory.appendingPathComponent("certs").path] }
        for user in options.users { arguments += ["--auth", user] }
        if options.requireAuthentication { arguments.append("--require-auth") }
        for mechanism in options.authMechanisms { arguments += ["--auth-mechanism", mechanism] }
        for recipient in options.rejectRecipients { arguments += ["--reject-recipient", recipient] }
        for recipient in options.deferRecipients { arguments += ["--defer-recipient", recipient] }
        if options.offersSMTPUTF8 { arguments.append("--smtputf8") }
        for user in options.xoauth2Users { arguments += ["--xoauth2", user] }
        if !options.xoauth2Users.isEmpty { arguments += ["--xoauth2-rejection", options.xoauth2Rejection] }
        if options.dataDelay > 0 { arguments += ["--data-delay", String(options.dataDelay)] }
        let releaseFile = directory.appendingPathComponent("release-data")
        if options.holdsData { arguments += ["--hold-data-until", releaseFile.path] }

        let child = try ChildProcess(executable: try TestEnvironment.python(), arguments: arguments, environment: ["PYTHONDONTWRITEBYTECODE": "1"])
        let readyLine = try await child.firstOutputLine(timeout: TestEnvironment.patience)
        guard let ready = try? JSONValue(parsing: readyLine), let port = ready[path: "port"]?.numberValue else {
            throw TestEnvironmentError("the SMTP test server did not report its port; it printed \(readyLine)")
        }
        return SMTPTestServer(child: child, port: Int(port), caFile: ready[path: "ca"]?.stringValue, spool: spool, releaseFile: releaseFile)
    }

    private init(child: ChildProcess, port: Int, caFile: String?, spool: URL, releaseFile: URL) {
        self.child = child
        self.port = port
        self.caFile = caFile
        self.spool = spool
        self.releaseFile = releaseFile
    }

    /// Lets a server started with `holdsData` reply to message data, held and future.
    public func releaseData() throws {
        try Data().write(to: releaseFile)
    }

    /// Makes a server started with `holdsData` hold its replies to message data again, from
    /// the next check on.
    public func holdData() throws {
        try FileManager.default.removeItem(at: releaseFile)
    }

    /// How many times a server started with `holdsData` has received message data, replied or
    /// held.
    public var dataReceivedCount: Int {
        log.components(separatedBy: " octets; replying once ").count - 1
    }

    deinit {
        stop()
    }

    public func stop() {
        child.closeInput()
        child.terminate()
    }

    /// Every message received so far, oldest first, as the JSON records the server wrote.
    public func receivedMessages() throws -> [JSONValue] {
        let names = try FileManager.default.contentsOfDirectory(atPath: spool.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            let data = try Data(contentsOf: spool.appendingPathComponent(name))
            return try JSONValue(parsing: Array(data))
        }
    }

    /// Waits until at least `count` messages have arrived.
    public func waitForMessages(_ count: Int, timeout: Duration = TestEnvironment.patience) async throws -> [JSONValue] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let messages = try receivedMessages()
            if messages.count >= count { return messages }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestEnvironmentError("the SMTP test server received \(try receivedMessages().count) messages, not \(count), within \(timeout); its log:\n\(child.standardError)")
    }

    public var log: String { child.standardError }
}
