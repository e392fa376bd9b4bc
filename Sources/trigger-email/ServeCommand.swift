import Dispatch
import DocumentStore
import Foundation
import HTTPServer
import Logging
import SMTP
import TriggerEmail

/// `serve` and `worker`: run the delivery processor until SIGINT or SIGTERM. `serve` also
/// serves the HTTP API and the dashboard on `LISTEN`.
enum ServeCommand {
    static func command(name: String, summary: String) -> TriggerEmailCommand.Command {
        TriggerEmailCommand.Command(
            name: name, summary: summary,
            usage: "trigger-email \(name) [CONFIGURATION FLAGS]",
            valueOptions: [], flagOptions: []
        ) { arguments in
            guard arguments.positional.isEmpty else {
                throw UsageError("\(name) takes no arguments, but got \(arguments.positional.joined(separator: " ")).")
            }
            return try await serve(Settings.configuration(arguments, readsSMTPSettings: true), withHTTP: name == "serve")
        }
    }

    static func serve(_ configuration: Configuration, withHTTP: Bool) async throws -> Int32 {
        let logger = Settings.logger(configuration, label: "trigger-email")
        // The address is checked before anything starts, so a bad LISTEN fails at once.
        let address = try withHTTP ? HTTPEndpoint.checkedAddress(configuration) : nil
        let store = try await Settings.openStore(configuration)
        let metrics = DeliveryMetrics()
        let client = try makeClient(configuration, logger: logger)
        let transport: any MailTransport = if let client {
            SMTPTransport(client: client, metrics: metrics)
        } else {
            try makeOutbox(configuration)
        }

        if configuration.smtp == nil {
            logger.warning(
                "no SMTP server configured: messages are written to the outbox folder and not sent; set SMTP_CONNECTION_URI to send them",
                ["outbox": configuration.outboxDirectory])
        }

        var settings = MailProcessor.Settings(configuration)
        settings.metrics = metrics
        if let dkim = configuration.dkim {
            settings.dkimSigner = try dkim.makeSigner()
            logger.info("signing with DKIM", ["dkim.domain": dkim.domain, "dkim.selector": dkim.selector])
        }

        // The signals are watched before the HTTP API announces that it listens, so that a
        // supervisor that stops the service as soon as it responds is not ignored.
        let stopRequest = StopRequest()
        let stop = SignalWatcher(signals: [SIGINT, SIGTERM]) { signal in
            logger.info("stopping", ["signal": signal == SIGINT ? "SIGINT" : "SIGTERM"])
            stopRequest.request()
        }

        var endpoint: HTTPEndpoint?
        if let address {
            do {
                endpoint = try HTTPEndpoint.start(
                    configuration, address: address, store: store, metrics: metrics, client: client, logger: logger.labeled("http"))
            } catch {
                stop.cancel()
                await store.close()
                throw error
            }
        }

        let processor = MailProcessor(store: store, transport: transport, settings: settings, logger: logger.labeled("processor"))
        let processing = Task { await processor.run() }
        stopRequest.attach(processing)
        await processing.value
        stop.cancel()
        await endpoint?.stop()

        await store.close()
        return 0
    }

    /// Returns the SMTP client, or `nil` when messages go to the outbox folder.
    private static func makeClient(_ configuration: Configuration, logger: Logger) throws -> SMTPClient? {
        guard let smtp = configuration.smtp else { return nil }
        return try SMTPClient(
            configuration: smtp, maxConnections: configuration.smtpPoolSize,
            maxMessagesPerConnection: configuration.smtpMaxMessagesPerConnection, logger: logger.labeled("smtp"))
    }

    private static func makeOutbox(_ configuration: Configuration) throws -> OutboxTransport {
        let outbox = OutboxTransport(directory: configuration.outboxDirectory)
        try outbox.prepare()
        return outbox
    }
}

/// A request to stop the processor that may come before the processor's task exists.
final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var isRequested = false
    private var task: Task<Void, Never>?

    func request() {
        let task = lock.withLock {
            isRequested = true
            return self.task
        }
        task?.cancel()
    }

    /// Cancels `task` on a stop request, or at once when the request came first.
    func attach(_ task: Task<Void, Never>) {
        let isRequested = lock.withLock {
            self.task = task
            return self.isRequested
        }
        if isRequested { task.cancel() }
    }
}

/// Calls `handler` on the first of `signals` to arrive, instead of the default of ending the
/// process, so that deliveries under way can finish.
final class SignalWatcher: @unchecked Sendable {
    // Set once in init; DispatchSource objects may be cancelled from any thread.
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources {
            source.cancel()
        }
    }
}
