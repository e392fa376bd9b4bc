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

    /// `token` is `API_TOKEN`; without one, every request is accepted.
    public init(
        store: any DocumentStore, mailCollection: String, token: String?, healthChecks: [HealthCheck] = [],
        metrics: (@Sendable () async -> String)? = nil
    ) {
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

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        do {
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
