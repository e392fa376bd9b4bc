import Foundation

/// Fetches an attachment from an `http` or `https` URL: checks the host against the address
/// policy, then follows up to five redirects itself, checking each target the same way before
/// it connects. Name resolution, every request and every redirect share one timeout.
struct HTTPFetcher: Sendable {
    static let maxRedirects = 5

    var policy: AddressPolicy
    var timeout: Duration

    /// The body of the final response, which must have a 2xx status.
    func fetch(_ url: URL, maxBytes: Int) async throws(FetchFailure) -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        var current = url
        var redirectCount = 0

        while true {
            try await policy.check(host: current.host ?? "", isRedirect: redirectCount > 0, before: deadline)
            let response = try await HTTPDownload.get(current, maxBytes: maxBytes, before: deadline)

            switch response.statusCode {
            case 200..<300:
                return response.body
            case 301, 302, 303, 307, 308:
                current = try nextURL(after: response, from: current, redirectCount: redirectCount)
                redirectCount += 1
            default:
                throw .refused("could not be fetched: \(originDescription(current)) returned HTTP \(response.statusCode)")
            }
        }
    }

    private func nextURL(after response: HTTPDownload.Response, from url: URL, redirectCount: Int) throws(FetchFailure) -> URL {
        guard redirectCount < Self.maxRedirects else {
            throw .refused("was redirected more than \(Self.maxRedirects) times")
        }
        guard let location = response.location, let target = URL(string: location, relativeTo: url)?.absoluteURL else {
            throw .refused(
                "could not be fetched: \(originDescription(url)) returned HTTP \(response.statusCode) without a valid Location header field")
        }
        if let problem = Self.problem(with: target) {
            throw .refused("was redirected to \(problem); only http and https URLs are followed")
        }
        return target
    }

    /// Returns what makes `url` unfit for fetching as a noun phrase ("a URL without a host"), or
    /// `nil` when it is an http or https URL with a plain host.
    static func problem(with url: URL) -> String? {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            return "a URL with the unsupported scheme \(String(reflecting: url.scheme ?? ""))"
        }
        guard let host = url.host, !host.isEmpty else {
            return "a URL without a host"
        }
        // URL decodes a percent-encoded host, but the HTTP client may read the raw text, so
        // the name checked and the name connected to could differ.
        let rawHost = URLComponents(url: url, resolvingAgainstBaseURL: true)?.percentEncodedHost ?? ""
        if rawHost.contains("%") && !rawHost.hasPrefix("[") {
            return "a URL whose host name is percent-encoded"
        }
        return nil
    }
}
