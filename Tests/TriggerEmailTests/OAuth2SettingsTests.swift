import Foundation
import SMTP
import Testing

@testable import TriggerEmail

@Suite("OAuth2 configuration")
struct OAuth2SettingsTests {
    static let environment = [
        "AUTH_TYPE": "OAuth2",
        "CLIENT_ID": "client-1.apps.example.com",
        "CLIENT_SECRET": "cs-Zq9xK7",
        "REFRESH_TOKEN": "1//rt-Wm4pL2",
        "USER": "mailer@example.com",
        "HOST": "smtp.gmail.com",
    ]

    /// Loads the configuration and returns its SMTP settings and the token provider's settings.
    static func loadOAuth2(_ changes: [String: String] = [:]) throws -> (smtp: SMTPServerConfiguration, settings: OAuth2Settings) {
        let environment = Self.environment.merging(changes) { _, new in new }
        let smtp = try #require(try Configuration.load(environment: environment).smtp)
        guard case .oauth2(let user, let tokens)? = smtp.authentication else {
            throw OAuth2TestError("expected XOAUTH2 authentication, got \(String(describing: smtp.authentication))")
        }
        #expect(user == environment["USER"])
        let provider = try #require(tokens as? OAuth2TokenProvider)
        return (smtp, provider.settings)
    }

    /// Returns the description of the error that loading `changes` throws, or `nil`.
    static func loadError(_ changes: [String: String], base: [String: String] = environment) -> String? {
        do {
            _ = try Configuration.load(environment: base.merging(changes) { _, new in new })
            return nil
        } catch {
            return error.description
        }
    }

    @Test("OAuth2 defaults to SMTPS on port 465 and Google's endpoint")
    func defaults() throws {
        let (smtp, settings) = try Self.loadOAuth2()

        #expect(smtp.host == "smtp.gmail.com")
        #expect(smtp.port == 465)
        #expect(smtp.security == .implicitTLS)
        #expect(smtp.tls == TLSConfiguration())
        #expect(smtp.credentials == nil)
        #expect(
            settings
                == OAuth2Settings(
                    clientID: "client-1.apps.example.com", clientSecret: "cs-Zq9xK7", refreshToken: "1//rt-Wm4pL2",
                    user: "mailer@example.com", host: "smtp.gmail.com", port: 465, security: .implicitTLS,
                    tokenURL: URL(string: "https://oauth2.googleapis.com/token")!))
    }

    @Test("OAUTH_PORT, OAUTH_SECURE, OAUTH_TOKEN_URL and TLS_OPTIONS apply")
    func explicitValues() throws {
        let (smtp, settings) = try Self.loadOAuth2([
            "HOST": "smtp.office365.com", "OAUTH_PORT": "587", "OAUTH_SECURE": "false",
            "OAUTH_TOKEN_URL": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
            "TLS_OPTIONS": #"{"servername": "mx.example.com"}"#,
        ])

        #expect(smtp.host == "smtp.office365.com")
        #expect(smtp.port == 587)
        #expect(smtp.security == .startTLSWhenOffered)
        #expect(smtp.tls.serverName == "mx.example.com")
        #expect(settings.tokenURL.absoluteString == "https://login.microsoftonline.com/common/oauth2/v2.0/token")
    }

    @Test("AUTH_TYPE and OAUTH_SECURE ignore case, and HOST may be a bracketed IPv6 literal")
    func lenientSpelling() throws {
        let (smtp, _) = try Self.loadOAuth2(["AUTH_TYPE": "oauth2", "OAUTH_SECURE": "TRUE", "HOST": "[::1]", "OAUTH_TOKEN_URL": "http://[::1]:8080/token"])

        #expect(smtp.host == "::1")
        #expect(smtp.security == .implicitTLS)
        #expect(smtp.serverDescription == "[::1]:465")
    }

    @Test("OAuth2 ignores SMTP_CONNECTION_URI and SMTP_PASSWORD")
    func oauth2IgnoresConnectionURI() throws {
        let (smtp, _) = try Self.loadOAuth2(["SMTP_CONNECTION_URI": "http://not-smtp.example.com", "SMTP_PASSWORD": "unused"])

        #expect(smtp.host == "smtp.gmail.com")
    }

    @Test("UsernamePassword ignores the OAuth2 variables")
    func usernamePasswordIgnoresOAuth2() throws {
        let configuration = try Configuration.load(environment: [
            "AUTH_TYPE": "UsernamePassword", "SMTP_CONNECTION_URI": "smtp://mailer@mail.example.com", "SMTP_PASSWORD": "pw",
            "HOST": "smtp.gmail.com:465", "OAUTH_PORT": "none", "USER": "root",
        ])
        let smtp = try #require(configuration.smtp)

        #expect(smtp.host == "mail.example.com")
        #expect(smtp.authentication == .password(Credentials(user: "mailer", password: "pw")))
    }

    @Test("Document commands ignore the OAuth2 variables")
    func documentCommandsIgnoreOAuth2() throws {
        let configuration = try Configuration.load(environment: ["AUTH_TYPE": "Kerberos"], readsSMTPSettings: false)

        #expect(configuration.smtp == nil)
    }

    @Test("Bad OAuth2 values fail naming the variable")
    func badValues() {
        let cases: [([String: String], String)] = [
            (["AUTH_TYPE": "Password"], "Invalid AUTH_TYPE: \"Password\" is not UsernamePassword or OAuth2."),
            (["OAUTH_PORT": "0"], "Invalid OAUTH_PORT: \"0\" is not a port between 1 and 65535."),
            (["OAUTH_PORT": "465s"], "Invalid OAUTH_PORT: \"465s\" is not a port between 1 and 65535."),
            (["OAUTH_SECURE": "yes"], "Invalid OAUTH_SECURE: \"yes\" is not true (TLS from the start) or false (STARTTLS)."),
            (["HOST": "smtp.gmail.com:465"], "Invalid HOST: \"smtp.gmail.com:465\" contains a port; put the port in OAUTH_PORT."),
            (["HOST": "smtp gmail com"], "Invalid HOST: \"smtp gmail com\" is not a host name or IP address, such as smtp.gmail.com."),
            (["USER": "mailer\u{1}"], "Invalid USER: \"mailer\\u{01}\" contains a control character."),
            (
                ["OAUTH_TOKEN_URL": "http://oauth.example.com/token"],
                "Invalid OAUTH_TOKEN_URL: http:// would send the client secret unencrypted to oauth.example.com; use https://, or http:// only to 127.0.0.1."
            ),
            (["OAUTH_TOKEN_URL": "ftp://oauth.example.com/token"], "Invalid OAUTH_TOKEN_URL: the scheme \"ftp\" is not supported; use https://."),
            (["OAUTH_TOKEN_URL": "not a url"], "Invalid OAUTH_TOKEN_URL: \"not a url\" is not a URL such as https://oauth2.googleapis.com/token."),
            (["OAUTH_TOKEN_URL": "/token"], "Invalid OAUTH_TOKEN_URL: \"/token\" is not a URL such as https://oauth2.googleapis.com/token."),
            (["TLS_OPTIONS": "[]"], "Invalid TLS_OPTIONS: it must be a JSON object such as {\"rejectUnauthorized\": false}."),
        ]
        for (changes, expected) in cases {
            #expect(Self.loadError(changes) == expected, "\(changes)")
        }
    }

    @Test("Missing OAuth2 variables are listed together")
    func missingValues() {
        #expect(
            Self.loadError([:], base: ["AUTH_TYPE": "OAuth2"])
                == "Invalid CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, USER, HOST: AUTH_TYPE=OAuth2 needs CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, USER, HOST; set the missing ones.")
        #expect(
            Self.loadError(["REFRESH_TOKEN": ""])
                == "Invalid REFRESH_TOKEN: AUTH_TYPE=OAuth2 needs CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, USER, HOST; set the missing ones.")
    }

    @Test("Secrets never appear in errors or descriptions")
    func secretsStayHidden() throws {
        let invalid: [[String: String]] = [
            ["CLIENT_SECRET": "cs-Zq9xK7\n"],
            ["REFRESH_TOKEN": "1//rt-Wm4pL2\r\n"],
            ["OAUTH_TOKEN_URL": "https://Zq9xK:Wm4pL@oauth.example.com/token"],
        ]
        for changes in invalid {
            let error = try #require(Self.loadError(changes))
            #expect(!error.contains("Zq9xK"), "\(error)")
            #expect(!error.contains("Wm4pL"), "\(error)")
        }
        #expect(Self.loadError(["CLIENT_SECRET": "cs-Zq9xK7\n"]) == "Invalid CLIENT_SECRET: the value contains a control character, such as a line break copied with it.")

        let (smtp, settings) = try Self.loadOAuth2()
        #expect(settings.description == "XOAUTH2 as mailer@example.com at smtps://smtp.gmail.com:465, client client-1.apps.example.com, tokens from https://oauth2.googleapis.com/token")
        #expect(String(describing: smtp.authentication!) == "mailer@example.com (OAuth2 access token)")
        let displayedText = "\(settings) \(smtp.authentication!) \(smtp)"
        #expect(!displayedText.contains("Zq9xK"))
        #expect(!displayedText.contains("Wm4pL"))
    }

    @Test("Help lists every OAuth2 variable")
    func helpListsVariables() {
        let names = Set(Configuration.variables.map(\.name))
        for name in ["AUTH_TYPE", "CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN", "USER", "HOST", "OAUTH_PORT", "OAUTH_SECURE", "OAUTH_TOKEN_URL"] {
            #expect(names.contains(name), "\(name)")
        }
    }
}

@Suite("OAuth2 token request")
struct OAuth2TokenRequestTests {
    static let settings = OAuth2Settings(
        clientID: "client 1", clientSecret: "s3cr&t=+/ é%", refreshToken: "1//refresh", user: "mailer@example.com",
        host: "smtp.gmail.com", tokenURL: URL(string: "https://oauth.example.com/token?tenant=a")!)
    static let request = OAuth2TokenRequest(settings: settings, timeout: .seconds(5))

    static func parse(_ status: Int, _ body: String) -> Result<OAuth2TokenRequest.Response, OAuth2TokenError> {
        Result { () throws(OAuth2TokenError) in try request.parse(status: status, body: Array(body.utf8)) }
    }

    static func failure(_ status: Int, _ body: String) -> String? {
        guard case .failure(let error) = parse(status, body) else { return nil }
        return error.description
    }

    @Test("Body is the form-encoded refresh token grant")
    func formBody() {
        #expect(
            Self.request.body
                == "grant_type=refresh_token&client_id=client%201&client_secret=s3cr%26t%3D%2B%2F%20%C3%A9%25&refresh_token=1%2F%2Frefresh")
    }

    @Test("Token response with expires_in as number or string")
    func successfulResponses() throws {
        #expect(
            try Self.parse(200, #"{"access_token": "ya29.a0-_~+/=", "token_type": "Bearer", "expires_in": 3599}"#).get()
                == OAuth2TokenRequest.Response(accessToken: "ya29.a0-_~+/=", expiresIn: .seconds(3599)))
        #expect(
            try Self.parse(200, #"{"access_token": "t", "token_type": "bearer", "expires_in": "3600"}"#).get()
                == OAuth2TokenRequest.Response(accessToken: "t", expiresIn: .seconds(3600)))
        #expect(try Self.parse(200, #"{"access_token": "t"}"#).get() == OAuth2TokenRequest.Response(accessToken: "t", expiresIn: nil))
    }

    @Test("Unusable responses fail with the endpoint and the reason")
    func unusableResponses() {
        let endpoint = "https://oauth.example.com/token"
        let cases: [(Int, String, String)] = [
            (
                400, #"{"error": "invalid_grant", "error_description": "Token has been expired or revoked."}"#,
                "The OAuth2 token endpoint \(endpoint) rejected the refresh token with HTTP 400: invalid_grant (Token has been expired or revoked.); REFRESH_TOKEN was revoked, has expired or belongs to another client; create a new refresh token."
            ),
            (
                401, #"{"error": "invalid_client"}"#,
                "The OAuth2 token endpoint \(endpoint) rejected the refresh token with HTTP 401: invalid_client; check CLIENT_ID and CLIENT_SECRET."
            ),
            (503, "Service Unavailable\n", "The OAuth2 token endpoint \(endpoint) rejected the request with HTTP 503: Service Unavailable."),
            (500, "", "The OAuth2 token endpoint \(endpoint) rejected the request with HTTP 500: an empty body."),
            (
                307, "",
                "The OAuth2 token endpoint \(endpoint) redirected with HTTP 307, which is not followed because it would send the client secret elsewhere; set OAUTH_TOKEN_URL to the final URL."
            ),
            (200, "<html>", "The OAuth2 token endpoint \(endpoint) sent HTTP 200 with a body that is not a JSON object: <html>."),
            (200, #"{"token_type": "Bearer"}"#, "The OAuth2 token endpoint \(endpoint) sent HTTP 200 without an access_token."),
            (
                200, #"{"access_token": "a b"}"#,
                "The OAuth2 token endpoint \(endpoint) sent an access_token with characters that a bearer token cannot contain."
            ),
            (200, #"{"access_token": "t", "token_type": "mac"}"#, "The OAuth2 token endpoint \(endpoint) sent a token of type mac; XOAUTH2 needs a Bearer token."),
            (
                200, #"{"access_token": "t", "expires_in": "soon"}"#,
                "The OAuth2 token endpoint \(endpoint) sent expires_in \"soon\", which is not a number of seconds."
            ),
        ]
        for (status, body, expected) in cases {
            #expect(Self.failure(status, body) == expected, "\(status) \(body)")
        }
    }

    @Test("Secrets that the endpoint echoes are redacted")
    func echoedSecretsRedacted() {
        let body = #"{"error": "invalid_request", "error_description": "bad client_secret s3cr&t=+/ é% for 1//refresh"}"#
        #expect(
            Self.failure(400, body)
                == "The OAuth2 token endpoint https://oauth.example.com/token rejected the refresh token with HTTP 400: invalid_request (bad client_secret <redacted> for <redacted>); check CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN and OAUTH_TOKEN_URL.")
    }
}

struct OAuth2TestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
