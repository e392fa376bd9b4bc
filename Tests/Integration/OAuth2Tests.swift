import DocumentStore
import Foundation
import Logging
import SMTP
import TestSupport
import Testing
import TriggerEmail

/// A token endpoint and an aiosmtpd server that accepts XOAUTH2 for one user, with the
/// configuration the service would load for them.
private struct OAuth2Servers {
    static let user = "mailer@example.com"

    let tokens: OAuth2TokenServer
    let smtp: SMTPTestServer
    let tls: SMTPTestServer.Options.TLSMode

    /// Starts both servers. The SMTP server accepts tokens that start with `acceptedTokenPrefix`.
    static func start(
        tls: SMTPTestServer.Options.TLSMode = .smtps, acceptedTokenPrefix: String = "token-", rejection: String = "challenge",
        tokenOptions: OAuth2TokenServer.Options = OAuth2TokenServer.Options()
    ) async throws -> OAuth2Servers {
        let tokens = try await OAuth2TokenServer.start(tokenOptions)
        let smtp = try await SMTPTestServer.start(
            .init(tls: tls, requireAuthentication: true, xoauth2Users: ["\(user):\(acceptedTokenPrefix)"], xoauth2Rejection: rejection))
        return OAuth2Servers(tokens: tokens, smtp: smtp, tls: tls)
    }

    /// The variables an operator would set for these servers.
    var environment: [String: String] {
        [
            "AUTH_TYPE": "OAuth2",
            "CLIENT_ID": tokens.options.clientID,
            "CLIENT_SECRET": tokens.options.clientSecret,
            "REFRESH_TOKEN": tokens.options.refreshToken,
            "USER": Self.user,
            "HOST": "127.0.0.1",
            "OAUTH_PORT": String(smtp.port),
            "OAUTH_SECURE": tls == .smtps ? "true" : "false",
            "OAUTH_TOKEN_URL": tokens.tokenURL,
            "TLS_OPTIONS": #"{"ca": "\#(smtp.caFile ?? "")"}"#,
        ]
    }

    /// Returns a processor that sends with the configuration loaded from `environment`, and
    /// logs the SMTP wire at trace level.
    ///
    /// Each connection carries one message, so that no idle connection is left open when the
    /// servers stop.
    /// NOTE: closing an idle TLS connection that the server has already closed raises SIGPIPE,
    /// which ends the test process, because OpenSSL writes to the socket without MSG_NOSIGNAL.
    func harness() async throws -> DeliveryHarness {
        let configuration = try #require(try Configuration.load(environment: environment).smtp)
        return try await DeliveryHarness(transport: { logger in
            var wireLogger = logger
            wireLogger.logLevel = .trace
            return SMTPTransport(
                client: try SMTPClient(
                    configuration: configuration, maxConnections: 1, maxMessagesPerConnection: 1, logger: wireLogger))
        })
    }

    /// Returns a new provider with the settings loaded from `environment`.
    func provider(timeout: Duration = .seconds(10), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) throws -> OAuth2TokenProvider {
        let configuration = try #require(try Configuration.load(environment: environment).smtp)
        guard case .oauth2(_, let tokens)? = configuration.authentication, let provider = tokens as? OAuth2TokenProvider else {
            throw TestEnvironmentError("the OAuth2 configuration has no OAuth2TokenProvider")
        }
        return OAuth2TokenProvider(settings: provider.settings, timeout: timeout, now: now)
    }

    /// Fails the test for every log line that contains the client secret, the refresh token or
    /// an issued access token.
    func expectNoSecrets(in logs: InMemoryLogHandler, issued: [String]) {
        let secrets = [tokens.options.clientSecret, tokens.options.refreshToken] + issued
        for record in logs.records {
            let line = "\(record.message) \(record.metadata)"
            for secret in secrets {
                #expect(!line.contains(secret), "a log line contains a secret: \(line)")
            }
        }
    }

    func stop() {
        tokens.stop()
        smtp.stop()
    }
}

private let message: JSONObject = ["to": "a@example.org", "from": "mailer@example.com", "message": ["subject": "OAuth2", "text": "Hi"]]

@Suite("AUTH XOAUTH2 with tokens from an OAuth2 endpoint")
struct OAuth2Tests {
    @Test("XOAUTH2 delivers over SMTPS and STARTTLS", arguments: [SMTPTestServer.Options.TLSMode.smtps, .starttls])
    func deliversOverTLS(tls: SMTPTestServer.Options.TLSMode) async throws {
        let servers = try await OAuth2Servers.start(tls: tls)
        let harness = try await servers.harness()

        let id = try await harness.add(message)

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "state"] == "SUCCESS")
        let received = try #require(try await servers.smtp.waitForMessages(1).first)
        #expect(received[path: "auth_user"] == .string(OAuth2Servers.user))
        #expect(received[path: "tls"] == true)
        #expect(servers.smtp.log.contains("AUTH XOAUTH2 accepted for user '\(OAuth2Servers.user)'"))
        #expect(try await servers.tokens.tokenRequestCount() == 1)

        let commands = harness.logs.records.compactMap { $0.metadata["smtp.command"] }
        #expect(commands.contains("AUTH XOAUTH2 <redacted>"))
        servers.expectNoSecrets(in: harness.logs, issued: try await servers.tokens.issuedTokens())
        await harness.stop()
        servers.stop()
    }

    @Test("Token is reused for the next connection")
    func tokenCachedAcrossMessages() async throws {
        let servers = try await OAuth2Servers.start()
        let harness = try await servers.harness()

        let first = try await harness.add(message)
        #expect(try await harness.waitForState(first)["delivery"]?[path: "state"] == "SUCCESS")
        let second = try await harness.add(message)
        #expect(try await harness.waitForState(second)["delivery"]?[path: "state"] == "SUCCESS")

        #expect(try await servers.tokens.tokenRequestCount() == 1)
        #expect(servers.smtp.log.components(separatedBy: "AUTH XOAUTH2 accepted").count - 1 == 2)
        await harness.stop()
        servers.stop()
    }

    @Test("Rejected token is refreshed once, then delivers", arguments: ["challenge", "535", "454"])
    func rejectedTokenRefreshedOnce(rejection: String) async throws {
        let servers = try await OAuth2Servers.start(acceptedTokenPrefix: "token-2", rejection: rejection)
        let harness = try await servers.harness()

        let id = try await harness.add(message)

        #expect(try await harness.waitForState(id)["delivery"]?[path: "state"] == "SUCCESS")
        #expect(try await servers.tokens.tokenRequestCount() == 2)
        #expect(try await servers.tokens.issuedTokens() == ["token-1", "token-2"])
        #expect(servers.smtp.log.components(separatedBy: "AUTH XOAUTH2 rejected").count - 1 == 1)
        #expect(servers.smtp.log.contains("AUTH XOAUTH2 accepted for user '\(OAuth2Servers.user)'"))
        #expect(harness.logs.records.contains { $0.message == "access token rejected; fetching a new one" })
        await harness.stop()
        servers.stop()
    }

    @Test("Token rejected after the refresh ends in ERROR")
    func rejectedAfterRefreshFails() async throws {
        let servers = try await OAuth2Servers.start(acceptedTokenPrefix: "never-")
        let harness = try await servers.harness()

        let id = try await harness.add(message)

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "state"] == "ERROR")
        #expect(
            delivery[path: "error"]
                == .string(
                    "AUTH XOAUTH2 <redacted> rejected by 127.0.0.1:\(servers.smtp.port): 535 5.7.8 Username and Password not accepted (the server's XOAUTH2 error is {\"status\": \"401\", \"schemes\": \"Bearer\", \"scope\": \"https://mail.google.com/\"}; check that USER (mailer@example.com) is the mailbox that the refresh token was issued for, and that the token's scope allows SMTP)."
                ))
        #expect(try await servers.tokens.tokenRequestCount() == 2)
        #expect(try servers.smtp.receivedMessages().isEmpty)
        await harness.stop()
        servers.stop()
    }

    @Test("Token endpoint error ends in ERROR quoting it without secrets")
    func tokenEndpointErrorFails() async throws {
        var options = OAuth2TokenServer.Options()
        options.failure = "400:invalid_grant:Token has been expired or revoked."
        let servers = try await OAuth2Servers.start(tokenOptions: options)
        let harness = try await servers.harness()

        let id = try await harness.add(message)

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "state"] == "ERROR")
        let error = try #require(delivery[path: "error"]?.stringValue)
        #expect(
            error
                == "The OAuth2 token endpoint \(servers.tokens.tokenURL) rejected the refresh token with HTTP 400: invalid_grant (Token has been expired or revoked.); REFRESH_TOKEN was revoked, has expired or belongs to another client; create a new refresh token."
        )
        #expect(!error.contains(options.clientSecret))
        #expect(!error.contains(options.refreshToken))
        #expect(!servers.smtp.log.contains("connected"))
        servers.expectNoSecrets(in: harness.logs, issued: [])
        await harness.stop()
        servers.stop()
    }

    @Test("Server without XOAUTH2 ends in ERROR naming the mechanisms")
    func serverWithoutXOAuth2Fails() async throws {
        let tokens = try await OAuth2TokenServer.start()
        let smtp = try await SMTPTestServer.start(.init(tls: .smtps, users: ["mailer@example.com:s3cret"], requireAuthentication: true))
        let servers = OAuth2Servers(tokens: tokens, smtp: smtp, tls: .smtps)
        let harness = try await servers.harness()

        let id = try await harness.add(message)

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(
            delivery[path: "error"]
                == .string("AUTH failed at 127.0.0.1:\(smtp.port): the server offers only LOGIN, PLAIN, but AUTH_TYPE=OAuth2 needs XOAUTH2."))
        await harness.stop()
        servers.stop()
    }
}

@Suite("check-smtp with AUTH XOAUTH2")
struct OAuth2ServerCheckTests {
    /// Runs the server check with the configuration loaded from the servers' environment.
    fileprivate static func check(_ servers: OAuth2Servers) async throws -> SMTPServerCheck {
        let configuration = try #require(try Configuration.load(environment: servers.environment).smtp)
        let logger = Logger(label: "test", handler: InMemoryLogHandler())
        return try await SMTPClient(configuration: configuration, maxConnections: 1, logger: logger).checkServer()
    }

    @Test("Server check authenticates with a fetched token")
    func checkAuthenticates() async throws {
        let servers = try await OAuth2Servers.start()

        let check = try await Self.check(servers)

        #expect(check.authenticated == true)
        #expect(check.authenticationError == nil)
        #expect(check.extensions["AUTH"] == "XOAUTH2")
        #expect(try await servers.tokens.tokenRequestCount() == 1)
        servers.stop()
    }

    @Test("Server check reports a token endpoint error as the AUTH result")
    func checkReportsTokenError() async throws {
        var options = OAuth2TokenServer.Options()
        options.failure = "401:invalid_client:The OAuth client was deleted."
        let servers = try await OAuth2Servers.start(tokenOptions: options)

        let check = try await Self.check(servers)

        #expect(check.authenticated == false)
        #expect(
            check.authenticationError
                == "The OAuth2 token endpoint \(servers.tokens.tokenURL) rejected the refresh token with HTTP 401: invalid_client (The OAuth client was deleted.); check CLIENT_ID and CLIENT_SECRET."
        )
        #expect(check.tlsVersion != nil)
        servers.stop()
    }
}

@Suite("OAuth2 token provider against a token endpoint")
struct OAuth2TokenProviderTests {
    /// A clock that moves only when the test advances it.
    final class ManualClock: @unchecked Sendable {
        private let lock = NSLock()
        private var current = ContinuousClock.now

        var now: ContinuousClock.Instant { lock.withLock { current } }

        func advance(by duration: Duration) {
            lock.withLock { current += duration }
        }
    }

    @Test("Token is kept until 60 s before expires_in, then fetched again")
    func cacheHonoursExpiry() async throws {
        let servers = try await OAuth2Servers.start()
        let clock = ManualClock()
        let provider = try servers.provider(now: { clock.now })

        #expect(try await provider.accessToken(forceRefresh: false) == "token-1")
        clock.advance(by: .seconds(3539))
        #expect(try await provider.accessToken(forceRefresh: false) == "token-1")
        #expect(try await servers.tokens.tokenRequestCount() == 1)

        clock.advance(by: .seconds(1))
        #expect(try await provider.accessToken(forceRefresh: false) == "token-2")
        #expect(try await provider.accessToken(forceRefresh: true) == "token-3")
        #expect(try await provider.accessToken(forceRefresh: false) == "token-3")
        #expect(try await servers.tokens.tokenRequestCount() == 3)
        servers.stop()
    }

    @Test("Tokens that expire at once are fetched for every call")
    func immediateExpiry() async throws {
        var options = OAuth2TokenServer.Options()
        options.expiresIn = 0
        let servers = try await OAuth2Servers.start(tokenOptions: options)
        let provider = try servers.provider()

        #expect(try await provider.accessToken(forceRefresh: false) == "token-1")
        #expect(try await provider.accessToken(forceRefresh: false) == "token-2")
        #expect(try await servers.tokens.tokenRequestCount() == 2)
        servers.stop()
    }

    @Test("Token without expires_in is kept for 5 minutes")
    func missingExpiry() async throws {
        var options = OAuth2TokenServer.Options()
        options.omitsExpiresIn = true
        let servers = try await OAuth2Servers.start(tokenOptions: options)
        let clock = ManualClock()
        let provider = try servers.provider(now: { clock.now })

        #expect(try await provider.accessToken(forceRefresh: false) == "token-1")
        clock.advance(by: .seconds(299))
        #expect(try await provider.accessToken(forceRefresh: false) == "token-1")
        clock.advance(by: .seconds(1))
        #expect(try await provider.accessToken(forceRefresh: false) == "token-2")
        servers.stop()
    }

    @Test("Concurrent calls share one token request")
    func concurrentCallsShareRequest() async throws {
        var options = OAuth2TokenServer.Options()
        options.delay = 0.5
        let servers = try await OAuth2Servers.start(tokenOptions: options)
        let provider = try servers.provider()

        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask { try await provider.accessToken(forceRefresh: false) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }

        #expect(tokens == Array(repeating: "token-1", count: 8))
        #expect(try await servers.tokens.tokenRequestCount() == 1)
        servers.stop()
    }

    @Test("Slow token endpoint times out")
    func slowEndpointTimesOut() async throws {
        // The endpoint replies only after 600 s, so the error below can only come from the
        // 1-second timeout, however slowly a loaded machine runs the test.
        var options = OAuth2TokenServer.Options()
        options.delay = 600
        let servers = try await OAuth2Servers.start(tokenOptions: options)
        let provider = try servers.provider(timeout: .seconds(1))

        let start = ContinuousClock.now
        let error = await #expect(throws: OAuth2TokenError.self) { try await provider.accessToken(forceRefresh: false) }

        #expect(error?.description == "The OAuth2 token endpoint \(servers.tokens.tokenURL) did not respond within 1.0 seconds.")
        #expect(ContinuousClock.now - start < .seconds(300))
        servers.stop()
    }

    @Test("Wrong client secret is rejected without quoting it")
    func wrongClientSecret() async throws {
        let servers = try await OAuth2Servers.start()
        var environment = servers.environment
        environment["CLIENT_SECRET"] = "wrong-Qx7-secret"
        let configuration = try #require(try Configuration.load(environment: environment).smtp)
        guard case .oauth2(_, let tokens)? = configuration.authentication else {
            throw TestEnvironmentError("the OAuth2 configuration has no token provider")
        }

        let error = await #expect(throws: OAuth2TokenError.self) { try await tokens.accessToken(forceRefresh: false) }

        #expect(error?.errorCode == "invalid_client")
        #expect(
            error?.description
                == "The OAuth2 token endpoint \(servers.tokens.tokenURL) rejected the refresh token with HTTP 401: invalid_client (The OAuth client was not found.); check CLIENT_ID and CLIENT_SECRET."
        )
        #expect(error?.description.contains("Qx7") == false)
        servers.stop()
    }

    @Test("Redirect from the token endpoint is not followed")
    func redirectNotFollowed() async throws {
        let target = try await OAuth2TokenServer.start()
        var options = OAuth2TokenServer.Options()
        options.redirectTarget = target.tokenURL
        let servers = try await OAuth2Servers.start(tokenOptions: options)
        let provider = try servers.provider()

        let error = await #expect(throws: OAuth2TokenError.self) { try await provider.accessToken(forceRefresh: false) }

        #expect(
            error?.description
                == "The OAuth2 token endpoint \(servers.tokens.tokenURL) redirected with HTTP 307, which is not followed because it would send the client secret elsewhere; set OAUTH_TOKEN_URL to the final URL."
        )
        #expect(try await target.tokenRequestCount() == 0)
        target.stop()
        servers.stop()
    }
}
