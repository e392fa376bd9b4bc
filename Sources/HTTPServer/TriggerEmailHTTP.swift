import DocumentStore
import Foundation
import TriggerEmail

/// The handler of `serve`'s HTTP requests: the REST API under `/v1`, the dashboard at `/`, `/healthz`
/// and `/metrics`.
public final class TriggerEmailHTTP: HTTPHandler, @unchecked Sendable {
    /// One part of the health report: whether the store or the SMTP server can be reached.
    public struct HealthCheck: Sendable {
        public var name: String
        public var check: @Sendable () async -> Result<String, any Error>

        public init(name: String, check: @escaping @Sendable () async -> Result<String, any Error>) {
            self.name = name
            self.check = check
        }
    }

    private let api: DocumentAPI
    private let token: BearerToken?
    private let healthChecks: [HealthCheck]
    private let metrics: (@Sendable () async -> String)?
    private let watches: WatchRegistry
    private let requiresLoopbackHost: Bool

    /// `token` is `API_TOKEN`; without one, every request is accepted. With
    /// `requiresLoopbackHost`, for a server on a loopback address, requests must name a loopback
    /// host, so that a web page cannot reach the API through a DNS name of its own that
    /// resolves to 127.0.0.1.
    public init(
        store: any DocumentStore, mailCollection: String, token: String?, requiresLoopbackHost: Bool = false,
        healthChecks: [HealthCheck] = [], metrics: (@Sendable () async -> String)? = nil
    ) {
        self.requiresLoopbackHost = requiresLoopbackHost
        watches = WatchRegistry(store: store)
        api = DocumentAPI(store: store, queue: MailQueue(store: store, mailCollection: mailCollection), watches: watches)
        self.token = token.map(BearerToken.init)
        self.healthChecks = healthChecks
        self.metrics = metrics
    }

    /// Ends the open event streams within a second, so the server can stop.
    public func stopStreams() {
        watches.stop()
    }

    public func checkHeaders(_ request: HTTPRequest) -> HTTPResponse? {
        do {
            try checkSource(request)
            if request.path.hasPrefix("/v1/") || request.path == "/v1" || request.path == "/metrics" {
                try authorize(request)
            }
            return nil
        } catch let error as APIError {
            return error.response
        } catch {
            return APIError(status: 500, message: "The request failed: \(error)").response
        }
    }

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        do {
            try checkSource(request)
            return try await route(request)
        } catch let error as APIError {
            return error.response
        } catch let error as DocumentStoreError {
            return APIError(error).response
        } catch {
            return APIError(status: 500, message: "The request failed: \(error)").response
        }
    }

    private func route(_ request: HTTPRequest) async throws -> HTTPResponse {
        let segments = request.path.split(separator: "/", omittingEmptySubsequences: true)

        if segments.first == "v1" {
            try authorize(request)
            return try await api.handle(request, segments: Array(segments.dropFirst()))
        }
        switch request.path {
        case "/healthz":
            try allow(request, ["GET"])
            return await health()
        case "/metrics":
            try allow(request, ["GET"])
            try authorize(request)
            guard let metrics else { throw APIError.notFound(request.path) }
            return .text(await metrics(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        default:
            return try Dashboard.response(to: request, mailCollection: api.mailCollection)
        }
    }

    /// Rejects requests that a web page of another site sent through the visitor's browser: an
    /// `Origin` other than this server's own, and, with `requiresLoopbackHost`, a `Host` that is
    /// not a loopback name. Programs that are not browsers send no `Origin`.
    private func checkSource(_ request: HTTPRequest) throws {
        let host = request.headers["host"] ?? ""
        if requiresLoopbackHost, !Self.isLoopbackHost(host) {
            throw APIError(
                status: 403,
                message: "The Host header \"\(host)\" does not name this machine; open the service as http://127.0.0.1 or http://localhost with its port.")
        }
        if let origin = request.headers["origin"] {
            let originHost = URLComponents(string: origin).map { components in
                (components.host.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "") + (components.port.map { ":\($0)" } ?? "")
            }
            guard let originHost, originHost.lowercased() == host.lowercased() else {
                throw APIError(
                    status: 403,
                    message: "Requests from the web page \(origin) are not accepted; use the dashboard at this server's own address, or call the API from a program.")
            }
        }
    }

    /// Returns whether `host`, a Host header with a name or address and an optional port, names
    /// a loopback interface.
    static func isLoopbackHost(_ host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("["), let end = name.firstIndex(of: "]") {
            name = String(name[name.index(after: name.startIndex)..<end])
        } else if let colon = name.lastIndex(of: ":") {
            name = String(name[..<colon])
        }
        if name == "localhost" || name == "::1" { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    private func authorize(_ request: HTTPRequest) throws {
        guard let token else { return }
        guard token.accepts(authorization: request.headers["authorization"]) else { throw APIError.unauthorized }
    }

    private func allow(_ request: HTTPRequest, _ methods: [String]) throws {
        guard methods.contains(request.method) else {
            throw APIError.methodNotAllowed(request.method, request.path, allowed: methods)
        }
    }

    /// Runs every check at once; 200 when all pass, 503 otherwise.
    private func health() async -> HTTPResponse {
        let results = await withTaskGroup(of: (String, Result<String, any Error>).self) { group in
            for check in healthChecks {
                group.addTask { (check.name, await check.check()) }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }

        var report: JSONObject = [:]
        var healthy = true
        for (name, result) in results {
            switch result {
            case .success(let detail):
                report[name] = ["ok": true, "detail": .string(detail)]
            case .failure(let error):
                healthy = false
                report[name] = ["ok": false, "detail": .string(String(describing: error))]
            }
        }
        return .json(["ok": .bool(healthy), "checks": .object(report)], status: healthy ? 200 : 503)
    }
}
