import DocumentStore
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// An OAuth 2.0 token endpoint for the tests, started on a free loopback port by
/// `python/oauth2_token_server.py`. It accepts one client and one refresh token, issues
/// `token-1`, `token-2`, ... and counts the token requests it receives.
public final class OAuth2TokenServer: @unchecked Sendable {
    public struct Options: Sendable {
        public var clientID = "client-1.apps.example.com"
        /// Has characters that form encoding must escape.
        public var clientSecret = "s3cr&t=+/ é%"
        public var refreshToken = "1//refresh&token=+"
        /// `expires_in` of the issued tokens in seconds; 0 makes each expire at once.
        public var expiresIn = 3600
        /// Sends tokens without `expires_in`.
        public var omitsExpiresIn = false
        /// Seconds the server waits before it responds to each token request.
        public var delay: Double = 0
        /// `STATUS:ERROR[:DESCRIPTION]`: the error response sent to every token request.
        public var failure: String?
        /// Makes the server respond to every token request with a 307 redirect to this URL.
        public var redirectTarget: String?

        public init() {}
    }

    public let port: Int
    public let options: Options
    private let child: ChildProcess

    /// The URL to set as `OAUTH_TOKEN_URL`.
    public var tokenURL: String { "http://127.0.0.1:\(port)/token" }

    public static func start(_ options: Options = Options()) async throws -> OAuth2TokenServer {
        var arguments = [
            TestEnvironment.pythonScript("oauth2_token_server.py"), "--client-id", options.clientID,
            "--client-secret", options.clientSecret, "--refresh-token", options.refreshToken,
            "--expires-in", String(options.expiresIn),
        ]
        if options.omitsExpiresIn { arguments.append("--omit-expires-in") }
        if options.delay > 0 { arguments += ["--delay", String(options.delay)] }
        if let failure = options.failure { arguments += ["--fail", failure] }
        if let target = options.redirectTarget { arguments += ["--redirect-to", target] }

        let child = try ChildProcess(executable: try TestEnvironment.python(), arguments: arguments, environment: ["PYTHONDONTWRITEBYTECODE": "1"])
        let readyLine = try await child.firstOutputLine(timeout: TestEnvironment.patience)
        guard let ready = try? JSONValue(parsing: readyLine), let port = ready[path: "port"]?.numberValue else {
            throw TestEnvironmentError("the OAuth2 token server did not report its port; it printed \(readyLine)")
        }
        return OAuth2TokenServer(child: child, port: Int(port), options: options)
    }

    private init(child: ChildProcess, port: Int, options: Options) {
        self.child = child
        self.port = port
        self.options = options
    }

    deinit {
        stop()
    }

    public func stop() {
        child.closeInput()
        child.terminate()
    }

    /// Returns how many POST /token requests the server received, valid or not.
    public func tokenRequestCount() async throws -> Int {
        let stats = try await self.stats()
        guard let count = stats[path: "token_requests"]?.numberValue else {
            throw TestEnvironmentError("the OAuth2 token server sent stats without token_requests: \(stats.serialized())")
        }
        return Int(count)
    }

    /// Returns the access tokens issued so far, oldest first.
    public func issuedTokens() async throws -> [String] {
        try await stats()[path: "issued"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    private func stats() async throws -> JSONValue {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/stats")!)
        request.timeoutInterval = 10
        let (data, _) = try await URLSession.shared.data(for: request)
        return try JSONValue(parsing: Array(data))
    }

    /// The server's log: one line per token request with its outcome.
    public var log: String { child.standardError }
}
