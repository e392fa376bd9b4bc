import DocumentStore
import Foundation
import HTTPServer
import Logging
import SMTP
import TriggerEmail

/// `serve`'s HTTP side: the API, the dashboard, `/healthz` and `/metrics` on `LISTEN`.
struct HTTPEndpoint: Sendable {
    let server: MicroHTTPDServer
    let handler: TriggerEmailHTTP

    /// Reads `LISTEN` and refuses an address that other machines can reach unless `API_TOKEN`
    /// is set.
    static func checkedAddress(_ configuration: Configuration) throws -> ListenAddress {
        let address = try ListenAddress(parsing: configuration.listen)
        guard address.isLoopback || configuration.apiToken != nil else {
            throw ConfigurationError(
                variable: "API_TOKEN",
                message: "LISTEN \(address) can be reached from other machines, so the HTTP API needs a token; set API_TOKEN to a long random string, or set LISTEN to a loopback address such as 127.0.0.1:8025.")
        }
        return address
    }

    static func start(
        _ configuration: Configuration, address: ListenAddress, store: any DocumentStore, metrics: DeliveryMetrics,
        client: SMTPClient?, logger: Logger
    ) throws -> HTTPEndpoint {
        let page = MetricsPage(store: store, mailCollection: configuration.mailCollection, metrics: metrics) {
            client.map { MetricsPage.SMTPConnections(idle: $0.idleConnections, inUse: $0.connectionsInUse, opened: $0.connectionsOpened) }
        }
        let handler = TriggerEmailHTTP(
            store: store, mailCollection: configuration.mailCollection, token: configuration.apiToken,
            requiresLoopbackHost: address.isLoopback, healthChecks: [storeCheck(store, collection: configuration.mailCollection), transportCheck(configuration, client: client)],
            metrics: { await page.render() })

        let server = MicroHTTPDServer(handler: handler, limits: MicroHTTPDServer.Limits(maxBodyBytes: configuration.apiMaxBodyBytes))
        try server.start(on: address)
        logger.info(
            "HTTP API listening",
            ["http.address": ListenAddress(host: address.host, port: server.port).description, "http.token": configuration.apiToken == nil ? "none" : "required"])
        return HTTPEndpoint(server: server, handler: handler)
    }

    /// Ends the event streams and waits for the connection threads, off the cooperative pool.
    func stop() async {
        handler.stopStreams()
        let server = server
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                server.stop()
                done.resume()
            }.start()
        }
    }

    private static func storeCheck(_ store: any DocumentStore, collection: String) -> TriggerEmailHTTP.HealthCheck {
        TriggerEmailHTTP.HealthCheck(name: "store") {
            do {
                _ = try await store.count(collection, state: DeliveryState.processing.rawValue)
                return .success("reachable")
            } catch {
                return .failure(error)
            }
        }
    }

    private static func transportCheck(_ configuration: Configuration, client: SMTPClient?) -> TriggerEmailHTTP.HealthCheck {
        guard let client else {
            let folder = configuration.outboxDirectory
            return TriggerEmailHTTP.HealthCheck(name: "smtp") {
                FileManager.default.isWritableFile(atPath: folder)
                    ? .success("no SMTP server configured; messages go to the folder \(folder)")
                    : .failure(HealthError("the outbox folder \(folder) is not writable"))
            }
        }
        let cache = SMTPCheckCache(client: client)
        return TriggerEmailHTTP.HealthCheck(name: "smtp") { await cache.result() }
    }
}

/// The last SMTP check, reused for 10 seconds so that frequent health probes do not open a
/// connection each.
private actor SMTPCheckCache {
    private let client: SMTPClient
    private var last: (time: ContinuousClock.Instant, result: Result<String, any Error>)?

    init(client: SMTPClient) {
        self.client = client
    }

    func result() async -> Result<String, any Error> {
        if let last, ContinuousClock.now - last.time < .seconds(10) { return last.result }

        let result: Result<String, any Error>
        do {
            let check = try await client.checkServer()
            if check.authenticated == false {
                result = .failure(HealthError("AUTH failed: \(check.authenticationError ?? "no details")"))
            } else {
                result = .success("reachable: \(check.greeting)")
            }
        } catch {
            result = .failure(error)
        }
        last = (.now, result)
        return result
    }
}

private struct HealthError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
