import DocumentStore
import Foundation
import SMTP

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Fetches access tokens for AUTH XOAUTH2 from an OAuth 2.0 token endpoint with the refresh
/// token grant (RFC 6749 section 6), and keeps each token until shortly before it expires.
///
/// Callers that ask while a request is under way wait for that request instead of sending
/// their own, so a burst of messages after start-up or expiry costs one request.
public actor OAuth2TokenProvider: AccessTokenProvider {
    /// The endpoint, client and refresh token.
    public nonisolated let settings: OAuth2Settings
    /// Maximum duration of one token request, from connecting to the end of the response.
    public nonisolated let timeout: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private var cached: IssuedToken?
    private var pendingRequest: Task<IssuedToken, any Error>?

    /// How long before `expires_in` runs out a token is replaced: 60 s, but at most half the
    /// token's lifetime, so that a short-lived token is still reused for a while.
    static let expiryMargin: Duration = .seconds(60)
    /// How long a token without `expires_in` is kept. RFC 6749 leaves the lifetime to the
    /// endpoint's documentation then; a token that the server rejects earlier is replaced anyway.
    static let lifetimeWithoutExpiry: Duration = .seconds(300)

    /// - Parameter now: the clock that decides when a cached token expires; tests pass their own.
    public init(
        settings: OAuth2Settings, timeout: Duration = .seconds(30),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.settings = settings
        self.timeout = timeout
        self.now = now
    }

    /// Returns the cached token while it is fresh, and otherwise requests a new one.
    ///
    /// - Throws: `OAuth2TokenError` when the endpoint cannot be reached in time, rejects the
    ///   request, or sends no usable token.
    public func accessToken(forceRefresh: Bool) async throws -> String {
        if !forceRefresh, let cached, now() < cached.replaceAfter {
            return cached.value
        }
        if forceRefresh {
            // The server rejected this token, so it must not be handed out again even when
            // the new request fails.
            cached = nil
        }
        if let pendingRequest {
            return try await pendingRequest.value.value
        }

        let request = Task { [settings, timeout, now] in
            let requestedAt = now()
            let response = try await OAuth2TokenRequest(settings: settings, timeout: timeout).send()
            return IssuedToken(response, requestedAt: requestedAt)
        }
        pendingRequest = request
        defer { pendingRequest = nil }

        let token = try await request.value
        cached = token
        return token.value
    }
}

/// An access token and the moment from which it counts as expired.
private struct IssuedToken: Sendable {
    var value: String
    var replaceAfter: ContinuousClock.Instant

    /// Counts the lifetime from the moment the request was sent, which errs on the early side.
    init(_ response: OAuth2TokenRequest.Response, requestedAt: ContinuousClock.Instant) {
        value = response.accessToken
        guard let lifetime = response.expiresIn else {
            replaceAfter = requestedAt + OAuth2TokenProvider.lifetimeWithoutExpiry
            return
        }
        replaceAfter = requestedAt + lifetime - min(OAuth2TokenProvider.expiryMargin, lifetime / 2)
    }
}

/// A failed token request. The description names the endpoint and quotes its `error` and
/// `error_description`, but never the client secret or the refresh token.
public struct OAuth2TokenError: Error, CustomStringConvertible, Sendable {
    /// The endpoint's `error` code (RFC 6749 section 5.2), such as `invalid_grant`.
    public var errorCode: String?
    public var description: String
}

/// One POST of the refresh token grant to the token endpoint.
struct OAuth2TokenRequest: Sendable {
    struct Response: Sendable, Equatable {
        var accessToken: String
        var expiresIn: Duration?
    }

    var settings: OAuth2Settings
    var timeout: Duration

    /// The endpoint without query or fragment, as messages show it.
    var endpoint: String {
        var components = URLComponents(url: settings.tokenURL, resolvingAgainstBaseURL: false)
        components?.query = nil
        components?.fragment = nil
        return components?.string ?? "the token endpoint"
    }

    /// The form-encoded body (RFC 6749 section 6, with the client authenticating in the body
    /// as section 2.3.1 allows).
    var body: String {
        let fields = [
            ("grant_type", "refresh_token"), ("client_id", settings.clientID),
            ("client_secret", settings.clientSecret), ("refresh_token", settings.refreshToken),
        ]
        return fields.map { "\(Self.formEncoded($0.0))=\(Self.formEncoded($0.1))" }.joined(separator: "&")
    }

    func send() async throws(OAuth2TokenError) -> Response {
        let (status, body) = try await post()
        return try parse(status: status, body: body)
    }

    // MARK: - HTTP

    private func post() async throws(OAuth2TokenError) -> (status: Int, body: [UInt8]) {
        var request = URLRequest(url: settings.tokenURL)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.httpBody = Data(body.utf8)

        // FoundationNetworking (Swift 6.3) applies only the idle timeout, so awaitResult enforces
        // the whole duration. Its timeouts take whole seconds, and 0 would time out at once.
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout.timeInterval.rounded(.up)
        configuration.timeoutIntervalForResource = timeout.timeInterval.rounded(.up)
        configuration.urlCache = nil
        configuration.httpShouldSetCookies = false
        let session = URLSession(configuration: configuration, delegate: RedirectBlockingDelegate(), delegateQueue: nil)
        defer { session.invalidateAndCancel() }

        do {
            return try await awaitResult(
                of: { [request] in
                    let (data, response) = try await session.data(for: request)
                    return ((response as? HTTPURLResponse)?.statusCode ?? 0, Array(data))
                }, before: ContinuousClock.now + timeout)
        } catch is TimeLimitExceeded {
            throw OAuth2TokenError(description: "The OAuth2 token endpoint \(endpoint) did not respond within \(timeout).")
        } catch let error as URLError where error.code == .timedOut {
            throw OAuth2TokenError(description: "The OAuth2 token endpoint \(endpoint) did not respond within \(timeout).")
        } catch {
            throw OAuth2TokenError(description: "The OAuth2 token endpoint \(endpoint) could not be reached: \(Self.describe(error)).")
        }
    }

    private static func describe(_ error: any Error) -> String {
        guard let urlError = error as? URLError else { return "\(error)" }
        switch urlError.code {
        case .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed: return "the connection failed"
        case .networkConnectionLost: return "the connection was lost"
        case .secureConnectionFailed: return "the TLS handshake failed"
        case .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateHasUnknownRoot,
            .serverCertificateNotYetValid:
            return "its TLS certificate is not trusted"
        default: return "URLError \(urlError.code.rawValue)"
        }
    }

    // MARK: - Response

    /// Reads the JSON of a successful response (RFC 6749 section 5.1) or an error response
    /// (section 5.2).
    func parse(status: Int, body: [UInt8]) throws(OAuth2TokenError) -> Response {
        let object = (try? JSONValue(parsing: body))?.objectValue

        guard (200..<300).contains(status) else {
            throw rejection(status: status, object: object, body: body)
        }
        guard let object else {
            throw OAuth2TokenError(
                description: "The OAuth2 token endpoint \(endpoint) sent HTTP \(status) with a body that is not a JSON object: \(quoted(body)).")
        }
        guard let token = object["access_token"]?.stringValue, !token.isEmpty else {
            throw OAuth2TokenError(description: "The OAuth2 token endpoint \(endpoint) sent HTTP \(status) without an access_token.")
        }
        // RFC 6750 section 2.1: a bearer token is visible ASCII without spaces, so it cannot
        // break the XOAUTH2 line.
        guard token.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw OAuth2TokenError(
                description: "The OAuth2 token endpoint \(endpoint) sent an access_token with characters that a bearer token cannot contain.")
        }
        if let type = object["token_type"]?.stringValue, type.lowercased() != "bearer" {
            throw OAuth2TokenError(
                description: "The OAuth2 token endpoint \(endpoint) sent a token of type \(quoted(type)); XOAUTH2 needs a Bearer token.")
        }
        return Response(accessToken: token, expiresIn: try expiresIn(object["expires_in"]))
    }

    /// `expires_in` in seconds. Some endpoints send it as a string.
    private func expiresIn(_ value: JSONValue?) throws(OAuth2TokenError) -> Duration? {
        guard let value, !value.isNull else { return nil }
        guard let seconds = value.numberValue ?? value.stringValue.flatMap(Double.init), seconds >= 0, seconds < 1e9 else {
            throw OAuth2TokenError(
                description: "The OAuth2 token endpoint \(endpoint) sent expires_in \(quoted(value.serialized())), which is not a number of seconds.")
        }
        return .seconds(seconds)
    }

    private func rejection(status: Int, object: JSONObject?, body: [UInt8]) -> OAuth2TokenError {
        if (300..<400).contains(status) {
            return OAuth2TokenError(
                description: "The OAuth2 token endpoint \(endpoint) redirected with HTTP \(status), which is not followed because it would send the client secret elsewhere; set OAUTH_TOKEN_URL to the final URL.")
        }
        guard let code = object?["error"]?.stringValue else {
            return OAuth2TokenError(
                description: "The OAuth2 token endpoint \(endpoint) rejected the request with HTTP \(status): \(quoted(body)).")
        }

        var reason = quoted(code)
        if let text = object?["error_description"]?.stringValue, !text.isEmpty {
            reason += " (\(quoted(text)))"
        }
        let advice: String
        switch code {
        case "invalid_grant":
            advice = "REFRESH_TOKEN was revoked, has expired or belongs to another client; create a new refresh token"
        case "invalid_client", "unauthorized_client":
            advice = "check CLIENT_ID and CLIENT_SECRET"
        default:
            advice = "check CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN and OAUTH_TOKEN_URL"
        }
        return OAuth2TokenError(
            errorCode: code,
            description: "The OAuth2 token endpoint \(endpoint) rejected the refresh token with HTTP \(status): \(reason); \(advice).")
    }

    // MARK: - Text

    /// Text from the endpoint, made safe to quote: the secrets replaced, control characters
    /// turned into spaces, the ends trimmed, and cut at 200 characters.
    private func quoted(_ text: String) -> String {
        var safe = text
        for secret in [settings.clientSecret, settings.refreshToken] where !secret.isEmpty {
            safe = safe.replacingOccurrences(of: secret, with: "<redacted>")
        }
        safe = String(String.UnicodeScalarView(safe.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
            .trimmingCharacters(in: .whitespaces)
        return safe.count > 200 ? String(safe.prefix(200)) + "..." : safe
    }

    private func quoted(_ body: [UInt8]) -> String {
        body.isEmpty ? "an empty body" : quoted(String(decoding: body, as: UTF8.self))
    }

    private static let formSafeCharacters = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._*")

    /// `application/x-www-form-urlencoded`: every byte but letters, digits and `-._*` as `%XX`.
    static func formEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: formSafeCharacters) ?? ""
    }
}

/// Makes URLSession hand a redirect back instead of following it, because following would
/// send the client secret and the refresh token to the redirect's target.
private final class RedirectBlockingDelegate: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
