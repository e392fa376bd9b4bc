import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One HTTP GET through URLSession that does not follow redirects, counts the body while it
/// arrives and cancels the request once the body passes `maxBytes` or the deadline passes.
///
/// The deadline is enforced with a timer of its own, because FoundationNetworking on Linux (Swift
/// 6.3) ignores `timeoutIntervalForResource` and applies only the idle timeout. A server that
/// sends one byte at a time would otherwise never time out.
final class HTTPDownload: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    struct Response: Sendable {
        var statusCode: Int
        /// The `Location` header field, for redirects.
        var location: String?
        var body: [UInt8]
    }

    private let maxBytes: Int
    private let lock = NSLock()
    private var body = Data()
    private var response: HTTPURLResponse?
    private var task: URLSessionDataTask?
    private var continuation: CheckedContinuation<Response, any Error>?
    private var isFinished = false

    private init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    /// Sends a GET for `url` and returns the response, whatever its status.
    static func get(_ url: URL, maxBytes: Int, before deadline: ContinuousClock.Instant) async throws(FetchFailure) -> Response {
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else { throw .timedOut }

        // FoundationNetworking (Swift 6.3) truncates these timeouts to whole seconds, and 0 makes a
        // request time out at once, so they are rounded up. The timer in run(_:timeout:) enforces
        // the exact deadline.
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = remaining.timeInterval.rounded(.up)
        configuration.timeoutIntervalForResource = remaining.timeInterval.rounded(.up)
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpShouldSetCookies = false

        let download = HTTPDownload(maxBytes: maxBytes)
        let session = URLSession(configuration: configuration, delegate: download, delegateQueue: nil)
        defer { session.invalidateAndCancel() }

        var request = URLRequest(url: url)
        request.httpMethod = "GET"
        do {
            return try await withTaskCancellationHandler {
                try await download.run(session.dataTask(with: request), timeout: remaining)
            } onCancel: {
                download.finish(.failure(CancellationError()))
            }
        } catch let failure as FetchFailure {
            throw failure
        } catch is CancellationError {
            throw .refused("could not be fetched because the delivery was cancelled")
        } catch {
            throw Self.failure(for: error, url: url)
        }
    }

    private func run(_ task: URLSessionDataTask, timeout: Duration) async throws -> Response {
        let timer = DispatchWorkItem { [self] in finish(.failure(FetchFailure.timedOut)) }
        defer { timer.cancel() }

        return try await withCheckedThrowingContinuation { continuation in
            // A cancellation that came before this point has set isFinished and found no
            // continuation to resume.
            let alreadyFinished = lock.withLock {
                guard !isFinished else { return true }
                self.continuation = continuation
                self.task = task
                return false
            }
            guard !alreadyFinished else {
                continuation.resume(throwing: CancellationError())
                return
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout.timeInterval, execute: timer)
            task.resume()
        }
    }

    /// Ends the download with `result` once; later calls do nothing. Cancels the request.
    private func finish(_ result: Result<Response, any Error>) {
        let (continuation, task) = lock.withLock {
            let waiting = (self.continuation, self.task)
            isFinished = true
            self.continuation = nil
            return waiting
        }
        // Resuming first lets the caller go on while the cancellation, which FoundationNetworking
        // may take seconds to carry out during a transfer, runs on this thread.
        continuation?.resume(with: result)
        task?.cancel()
    }

    // MARK: - URLSessionDataDelegate

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        // The fetcher follows redirects itself, so that it can check each target first.
        completionHandler(nil)
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        // A status other than 2xx decides the outcome by itself, so an error page is reported
        // by its status and never by its size.
        if let httpResponse = response as? HTTPURLResponse, !(200..<300).contains(httpResponse.statusCode) {
            let location = httpResponse.value(forHTTPHeaderField: "Location")
            finish(.success(Response(statusCode: httpResponse.statusCode, location: location, body: [])))
            completionHandler(.cancel)
            return
        }
        if response.expectedContentLength > Int64(maxBytes) {
            finish(.failure(FetchFailure.tooLarge))
            completionHandler(.cancel)
            return
        }
        lock.withLock { self.response = response as? HTTPURLResponse }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let isTooLarge = lock.withLock {
            guard !isFinished else { return false }
            body.append(data)
            return body.count > maxBytes
        }
        if isTooLarge {
            finish(.failure(FetchFailure.tooLarge))
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        if let error {
            finish(.failure(error))
            return
        }

        // FoundationNetworking does not pass a redirect status without a Location header field
        // to urlSession(_:dataTask:didReceive:completionHandler:), but the task keeps it.
        let (received, body) = lock.withLock { (self.response, self.body) }
        guard let response = received ?? task.response as? HTTPURLResponse else {
            finish(.failure(FetchFailure.refused("could not be fetched because the server sent no HTTP response")))
            return
        }
        let location = response.value(forHTTPHeaderField: "Location")
        finish(.success(Response(statusCode: response.statusCode, location: location, body: Array(body))))
    }

    /// Words a URLSession error for a sentence about the attachment. The URL's path and query
    /// are left out, because they may carry an access token.
    private static func failure(for error: any Error, url: URL) -> FetchFailure {
        guard let urlError = error as? URLError else {
            return .refused("could not be fetched from \(originDescription(url)): \(error.localizedDescription)")
        }
        if urlError.code == .timedOut {
            return .timedOut
        }
        return .refused("could not be fetched from \(originDescription(url)): \(describe(urlError.code))")
    }

    private static func describe(_ code: URLError.Code) -> String {
        switch code {
        case .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed:
            return "the connection failed"
        case .networkConnectionLost:
            return "the connection was lost"
        case .secureConnectionFailed:
            return "the TLS handshake failed"
        case .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateHasUnknownRoot,
            .serverCertificateNotYetValid:
            return "the server's TLS certificate is not trusted"
        case .badServerResponse:
            return "the response is not valid HTTP"
        case .badURL, .unsupportedURL:
            // NOTE: FoundationNetworking on Linux (Swift 6.3) rejects URLs whose host is an
            // IPv6 literal such as http://[::1]/ with this error, so such URLs cannot be fetched.
            return "FoundationNetworking does not accept this URL"
        default:
            return "URLError \(code.rawValue)"
        }
    }
}

/// `host:port` of a URL, or just the host when the URL has no port, for messages.
func originDescription(_ url: URL) -> String {
    guard let host = url.host else { return "the server" }
    let shownHost = host.contains(":") ? "[\(host)]" : host
    return url.port.map { "\(shownHost):\($0)" } ?? shownHost
}

extension Duration {
    /// The duration in seconds, for Foundation APIs that take a `TimeInterval`.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
