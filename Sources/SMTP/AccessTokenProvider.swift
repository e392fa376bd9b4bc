/// A source of OAuth 2.0 access tokens for `AUTH XOAUTH2`, such as a client of the token
/// endpoint that trades a refresh token for access tokens.
///
/// `SMTPClient` requests a token before each session, so an implementation should cache a
/// token until it expires instead of fetching one per message.
public protocol AccessTokenProvider: Sendable {
    /// Returns an access token for the SMTP server.
    ///
    /// - Parameter forceRefresh: `true` after the server rejected the last token, so that a
    ///   cached token, which may have been revoked or expired early, is replaced by a new one.
    /// - Throws: When no token can be had; the error's description ends up in
    ///   `delivery.error`, so it must not contain a secret.
    func accessToken(forceRefresh: Bool) async throws -> String
}

extension SMTPError {
    /// Whether the server rejected the access token of `AUTH XOAUTH2`: 535 or 454 as the final
    /// reply, or a second 334 where the final reply belongs. A new token may then succeed.
    var rejectsAccessToken: Bool {
        guard step == .authentication, command?.logLine == SMTPCommand.authXOAuth2LogLine, let reply else {
            return false
        }
        return [334, 454, 535].contains(reply.code)
    }
}
