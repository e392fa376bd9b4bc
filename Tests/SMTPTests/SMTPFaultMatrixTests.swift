import Foundation
import Logging
import SMTP
import TestSupport
import Testing

/// Drives `SMTPClient` against `FaultSMTPPeer`, one fault at one step per test case, and checks
/// the exact error: its step, the reply and enhanced status code, whether it is temporary, and
/// whether the message may have been delivered. After every case, no socket to the peer may
/// remain open in this process.
@Suite("SMTP client against a faulty server")
struct SMTPFaultMatrixTests {
    static let stepsBeforeQuit = FaultSMTPPeer.Step.allCases.filter { $0 != .quit }
    static let transactionSteps: [FaultSMTPPeer.Step] = [.mailFrom, .recipients, .data]
    static let shutdownReply = "421 4.3.2 Service shutting down"

    @Test("Greeting 554 is a permanent failure")
    func greetingRejected() async throws {
        let delivery = try await FaultDelivery.run(.reply("554 5.3.2 No SMTP service here", at: .greeting))

        try delivery.expectFailure(
            step: .greeting, replyCode: 554, enhancedStatusCode: "5.3.2", isTemporary: false,
            description: "greeting failed at \(delivery.server): 554 5.3.2 No SMTP service here (the server does not accept mail now).")
        delivery.expectMessage(received: false, accepted: false)
    }

    @Test("421 at each step is temporary", arguments: stepsBeforeQuit)
    func shutdownReplyAtStep(_ step: FaultSMTPPeer.Step) async throws {
        let delivery = try await FaultDelivery.run(.reply(Self.shutdownReply, at: step))

        try expectShutdownFailure(delivery, at: step)
        delivery.expectMessage(received: step == .messageData, accepted: false)
    }

    @Test("421 without PIPELINING at transaction steps", arguments: transactionSteps)
    func shutdownReplyWithoutPipelining(_ step: FaultSMTPPeer.Step) async throws {
        let delivery = try await FaultDelivery.run(.reply(Self.shutdownReply, at: step), offersPipelining: false)

        try expectShutdownFailure(delivery, at: step)
        delivery.expectMessage(received: false, accepted: false)
    }

    @Test("Dropped connection at each step", arguments: stepsBeforeQuit)
    func droppedAtStep(_ step: FaultSMTPPeer.Step) async throws {
        let delivery = try await FaultDelivery.run(.drop(at: step))

        try delivery.expectFailureWithoutReply(at: step, detail: "the server closed the connection")
        delivery.expectMessage(received: step == .messageData, accepted: false)
    }

    @Test("Stalled reply at each step times out", arguments: stepsBeforeQuit)
    func stalledAtStep(_ step: FaultSMTPPeer.Step) async throws {
        let delivery = try await FaultDelivery.run(.stall(at: step))

        let detail: String
        switch step {
        case .greeting: detail = "timed out waiting for the greeting"
        case .messageData: detail = "timed out waiting for the reply to the message data"
        default: detail = "timed out waiting for the reply to \(try #require(FaultDelivery.command(at: step)))"
        }
        try delivery.expectFailureWithoutReply(at: step, detail: detail)
        delivery.expectMessage(received: step == .messageData, accepted: false)
    }

    @Test("Malformed reply at each step", arguments: stepsBeforeQuit)
    func malformedAtStep(_ step: FaultSMTPPeer.Step) async throws {
        let delivery = try await FaultDelivery.run(.malformed(at: step))

        try delivery.expectFailureWithoutReply(at: step, detail: "the server sent a malformed reply line \"hello there\"")
        delivery.expectMessage(received: step == .messageData, accepted: false)
    }

    @Test("Oversized reply line at each step", arguments: stepsBeforeQuit)
    func oversizedAtStep(_ step: FaultSMTPPeer.Step) async throws {
        let delivery = try await FaultDelivery.run(.oversized(at: step))

        try delivery.expectFailureWithoutReply(at: step, detail: "the server sent a line longer than 8192 octets")
        // The oversized line to the final dot carries 250, so the server did accept the message:
        // exactly the case the may-have-been-delivered warning is for.
        delivery.expectMessage(received: step == .messageData, accepted: step == .messageData)
    }

    @Test("Multi-line reply at each step is accepted", arguments: stepsBeforeQuit)
    func multilineAtStep(_ step: FaultSMTPPeer.Step) async throws {
        // A 220 to STARTTLS needs a handshake after it, so only that case needs a peer with TLS.
        let delivery = try await FaultDelivery.run(.multiline(at: step), completesTLS: step == .startTLS)

        let report = try delivery.expectDelivered()
        #expect(report.accepted == [FaultDelivery.recipient])
        #expect(report.response == (step == .messageData ? "250 first second last" : "250 2.0.0 Ok: queued as 1"))
    }

    @Test("TLS handshake failure is permanent")
    func tlsHandshakeFailure() async throws {
        let delivery = try await FaultDelivery.run(.tlsFailure)

        let error = try delivery.expectSMTPError()
        #expect(error.step == .tlsHandshake)
        #expect(error.reply == nil)
        #expect(error.isTemporary == false)
        #expect(error.mayHaveBeenDelivered == false)
        // The rest of the sentence is OpenSSL's own error text, which differs between versions.
        #expect(error.description.hasPrefix("TLS handshake failed at \(delivery.server): the TLS handshake failed: "))
        #expect(!error.description.contains(FaultDelivery.mayHaveBeenDeliveredSentence))
        delivery.expectMessage(received: false, accepted: false)
    }

    @Test("STARTTLS offered but refused with 454")
    func startTLSRefused() async throws {
        let delivery = try await FaultDelivery.run(.startTLSRefused)

        try delivery.expectFailure(
            step: .startTLS, replyCode: 454, enhancedStatusCode: "4.7.0", isTemporary: true,
            description: "STARTTLS rejected by \(delivery.server): 454 4.7.0 TLS not available due to temporary reason.")
        delivery.expectMessage(received: false, accepted: false)
    }

    /// A line that arrives in clear text together with the 220 to STARTTLS may come from anyone
    /// on the network path. The client must drop it, or give up on the connection, but never
    /// read it after the handshake as if the server had sent it over TLS.
    @Test("Plaintext before TLS is never a reply")
    func startTLSResponseInjection() async throws {
        let delivery = try await FaultDelivery.run(.startTLSResponseInjection, completesTLS: true)

        switch delivery.outcome {
        case .success:
            delivery.expectMessage(received: true, accepted: true)
        case .failure(let error):
            #expect(!"\(error)".contains("injected"), "the client took a line sent before TLS as the server's reply: \(error)")
            let step = (error as? SMTPError)?.step
            #expect(step == .startTLS || step == .tlsHandshake, "the client went on past STARTTLS and failed at \(String(describing: step))")
        }
    }

    @Test(
        "Fault at QUIT keeps the delivery",
        arguments: [
            FaultSMTPPeer.Fault.reply(shutdownReply, at: .quit), .drop(at: .quit), .stall(at: .quit),
            .malformed(at: .quit), .multiline(at: .quit), .oversized(at: .quit),
        ])
    func faultAtQuit(_ fault: FaultSMTPPeer.Fault) async throws {
        let delivery = try await FaultDelivery.run(fault)

        let report = try delivery.expectDelivered()
        #expect(report.accepted == [FaultDelivery.recipient])
        #expect(report.response == "250 2.0.0 Ok: queued as 1")
    }

    @Test("Socket check finds an open connection")
    func socketCheckSeesConnection() async throws {
        let peer = try await FaultSMTPPeer.start()
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0)
        defer { close(descriptor) }

        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(peer.port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(result == 0)

        // Without this check passing, the socket checks of the other tests could never fail.
        #expect(try peer.descriptorsConnectedToPeer() == ["descriptor \(descriptor) (ESTABLISHED)"])
        peer.stop()
    }

    /// Checks that a 421 at `step` fails at that step, quotes the reply and is temporary.
    private func expectShutdownFailure(_ delivery: FaultDelivery, at step: FaultSMTPPeer.Step) throws {
        let description: String
        switch step {
        case .greeting:
            description = "greeting failed at \(delivery.server): \(Self.shutdownReply) (the server does not accept mail now)."
        case .messageData:
            description = "message data failed at \(delivery.server): \(Self.shutdownReply) (the server rejected the message)."
        default:
            let command = try #require(FaultDelivery.command(at: step))
            description = "\(command) rejected by \(delivery.server): \(Self.shutdownReply)."
        }
        try delivery.expectFailure(
            step: FaultDelivery.clientStep(step), replyCode: 421, enhancedStatusCode: "4.3.2", isTemporary: true,
            description: description)
    }
}

/// One message sent by a fresh `SMTPClient` with 2-second timeouts to a peer injecting a fault,
/// with the checks every case shares.
private struct FaultDelivery {
    static let sender = "shop@example.com"
    static let recipient = "anna@example.org"
    static let credentials = Credentials(user: "mailer", password: "fault-matrix-secret")
    static let message = Array("From: \(sender)\r\nTo: \(recipient)\r\nSubject: Fault matrix\r\n\r\nHello.\r\n".utf8)
    static let mayHaveBeenDeliveredSentence =
        "The message may have been delivered, so it was not sent again; check the recipient's mailbox before retrying"

    let peer: FaultSMTPPeer
    let outcome: Result<SMTPDeliveryReport, any Error>
    let status: FaultSMTPPeer.Status

    /// `host:port` as the client's errors name the peer.
    var server: String { "127.0.0.1:\(peer.port)" }

    /// Starts a peer with `fault`, sends one message to it, releases the client, and checks that
    /// every connection to the peer was closed.
    ///
    /// The client authenticates only when the fault is at AUTH, so that a fault at EHLO that
    /// hides the AUTH keyword still lets the session go on.
    static func run(
        _ fault: FaultSMTPPeer.Fault, offersPipelining: Bool = true, completesTLS: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> FaultDelivery {
        let authenticates = fault.step == .authentication
        let peer = try await FaultSMTPPeer.start(
            .init(fault: fault, offersAuthentication: authenticates, offersPipelining: offersPipelining, completesTLS: completesTLS))
        #expect(try peer.descriptorsConnectedToPeer() == [], sourceLocation: sourceLocation)

        let timeouts = SMTPTimeouts(connect: .seconds(2), greeting: .seconds(2), command: .seconds(2), data: .seconds(2))
        var configuration = SMTPServerConfiguration(
            host: "127.0.0.1", port: peer.port, security: .startTLSWhenOffered, tls: TLSConfiguration(caFile: peer.caFile), timeouts: timeouts)
        configuration.credentials = authenticates ? credentials : nil
        let logs = InMemoryLogHandler()

        let outcome: Result<SMTPDeliveryReport, any Error>
        do {
            let client = try SMTPClient(configuration: configuration, maxConnections: 1, logger: Logger(label: "fault-matrix", level: .trace, handler: logs))
            do {
                outcome = .success(try await client.send(SMTPEnvelope(sender: sender, recipients: [recipient], message: message)))
            } catch {
                outcome = .failure(error)
            }

            // A connection that failed cannot carry the next message, so it is closed before
            // `send` returns instead of going back to the pool.
            if case .failure = outcome {
                #expect(try peer.descriptorsConnectedToPeer() == [], "a failed connection stayed open after \(fault)", sourceLocation: sourceLocation)
            }
            withExtendedLifetime(client) {}
        }

        // Releasing the client closes the connections in its pool, on a thread of its own.
        let leaked = try await peer.descriptorsConnectedToPeer(after: TestEnvironment.patience)
        #expect(leaked == [], "SMTPClient left a socket open after \(fault)", sourceLocation: sourceLocation)
        let status = try await peer.waitForStatus { $0.openConnections == 0 }
        #expect(status.connections == 1, sourceLocation: sourceLocation)
        #expect(status.faultsApplied == 1, "the fault did not apply exactly once; peer log:\n\(peer.log)", sourceLocation: sourceLocation)

        let secrets = [credentials.password, Data("\u{0}\(credentials.user)\u{0}\(credentials.password)".utf8).base64EncodedString()]
        for record in logs.records {
            let line = "\(record.message) \(record.metadata)"
            #expect(!secrets.contains { line.contains($0) }, "a log line shows the password: \(line)", sourceLocation: sourceLocation)
        }

        peer.stop()
        return FaultDelivery(peer: peer, outcome: outcome, status: status)
    }

    /// Returns the step as `SMTPError` names it.
    static func clientStep(_ step: FaultSMTPPeer.Step) -> SMTPError.Step {
        switch step {
        case .greeting: .greeting
        case .hello: .hello
        case .startTLS: .startTLS
        case .authentication: .authentication
        case .mailFrom: .mailFrom
        case .recipients: .recipients
        case .data: .data
        case .messageData: .messageData
        case .quit: preconditionFailure("the client ignores failures at QUIT, so no SMTPError names it")
        }
    }

    /// The command whose reply the step is, in its log form; `nil` for the greeting and the
    /// message data, which reply to no command line. MAIL FROM carries SIZE because the peer
    /// offers it (RFC 1870).
    static func command(at step: FaultSMTPPeer.Step) -> String? {
        switch step {
        case .greeting, .messageData: nil
        case .hello: "EHLO localhost"
        case .startTLS: "STARTTLS"
        case .authentication: "AUTH PLAIN <redacted>"
        case .mailFrom: "MAIL FROM:<\(sender)> SIZE=\(message.count)"
        case .recipients: "RCPT TO:<\(recipient)>"
        case .data: "DATA"
        case .quit: "QUIT"
        }
    }

    // MARK: - Checks

    var report: SMTPDeliveryReport? { try? outcome.get() }

    var error: (any Error)? {
        guard case .failure(let error) = outcome else { return nil }
        return error
    }

    func expectSMTPError(sourceLocation: SourceLocation = #_sourceLocation) throws -> SMTPError {
        let failure = try #require(error, "the message was delivered, but a failure was expected", sourceLocation: sourceLocation)
        return try #require(
            failure as? SMTPError, "expected an SMTPError, but \(type(of: failure)) was thrown: \(failure)", sourceLocation: sourceLocation)
    }

    func expectFailure(
        step: SMTPError.Step, replyCode: Int?, enhancedStatusCode: String?, isTemporary: Bool, mayHaveBeenDelivered: Bool = false,
        description: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let error = try expectSMTPError(sourceLocation: sourceLocation)
        #expect(error.step == step, sourceLocation: sourceLocation)
        #expect(error.reply?.code == replyCode, sourceLocation: sourceLocation)
        #expect(error.reply?.enhancedStatusCode == enhancedStatusCode, sourceLocation: sourceLocation)
        #expect(error.isTemporary == isTemporary, sourceLocation: sourceLocation)
        #expect(error.mayHaveBeenDelivered == mayHaveBeenDelivered, sourceLocation: sourceLocation)
        #expect(error.description.contains(Self.mayHaveBeenDeliveredSentence) == mayHaveBeenDelivered, sourceLocation: sourceLocation)
        #expect(!error.description.contains(Self.credentials.password), sourceLocation: sourceLocation)
        #expect(error.description == description, sourceLocation: sourceLocation)
    }

    /// Checks a temporary failure without a reply at `step`: only a failure after the message
    /// data was sent may have delivered the message.
    func expectFailureWithoutReply(at step: FaultSMTPPeer.Step, detail: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let clientStep = Self.clientStep(step)
        let mayHaveBeenDelivered = step == .messageData
        var description = "\(clientStep.rawValue) failed at \(server): \(detail)"
        if mayHaveBeenDelivered {
            description += ". " + Self.mayHaveBeenDeliveredSentence
        }
        try expectFailure(
            step: clientStep, replyCode: nil, enhancedStatusCode: nil, isTemporary: true, mayHaveBeenDelivered: mayHaveBeenDelivered,
            description: description + ".", sourceLocation: sourceLocation)
    }

    func expectDelivered(sourceLocation: SourceLocation = #_sourceLocation) throws -> SMTPDeliveryReport {
        let delivered = try #require(report, "expected a delivery, but this was thrown: \(error.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
        expectMessage(received: true, accepted: true, sourceLocation: sourceLocation)
        return delivered
    }

    /// Checks whether the peer received the message data, and whether it replied 2xx to it.
    func expectMessage(received: Bool, accepted: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(status.messagesReceived == (received ? 1 : 0), sourceLocation: sourceLocation)
        #expect(status.messagesAccepted == (accepted ? 1 : 0), sourceLocation: sourceLocation)
    }
}
