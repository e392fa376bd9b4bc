import Foundation

/// The mail transaction (RFC 5321 section 3.3): MAIL FROM, a RCPT TO per recipient, DATA and
/// the message. With PIPELINING (RFC 2920) the commands up to DATA go out in one write, and
/// the next message's commands go out in the same write as this message's data, so a message
/// costs one round trip instead of two.
extension SMTPSession {
    /// A message whose MAIL FROM, RCPT TO and DATA went out in the same write as the previous
    /// message's data (RFC 2920 section 3.1). Their replies are still to be read.
    struct PipelinedTransaction {
        var envelope: SMTPEnvelope
        var mailFrom: SMTPCommand
        var rcptTos: [SMTPCommand]
    }

    /// The outcome of one message, and the next message if its commands went out with this
    /// one's data. Those commands may have been sent even when this message failed.
    struct TransactionOutcome {
        var report: Result<SMTPDeliveryReport, any Error>
        var pipelined: PipelinedTransaction?
    }

    /// Sends one message. Rejected recipients are reported, not thrown; only when none is
    /// accepted does it throw. A session can send many messages one after another.
    func send(_ envelope: SMTPEnvelope) throws -> SMTPDeliveryReport {
        try send(envelope, commandsSent: nil, nextEnvelope: { nil }).report.get()
    }

    /// Sends one message, or, with `commandsSent`, goes on with a message whose commands went
    /// out with the previous message's data. Just before the data goes out, `nextEnvelope` is
    /// asked for the next message. When the server offers PIPELINING and that message fits its
    /// limits, the message's commands join the data's write.
    func send(_ envelope: SMTPEnvelope, commandsSent: PipelinedTransaction?, nextEnvelope: () -> SMTPEnvelope?) -> TransactionOutcome {
        var pipelined: PipelinedTransaction?
        do {
            let report = try transact(envelope, commandsSent: commandsSent, nextEnvelope: nextEnvelope, pipelined: &pipelined)
            return TransactionOutcome(report: .success(report), pipelined: pipelined)
        } catch {
            return TransactionOutcome(report: .failure(error), pipelined: pipelined)
        }
    }

    private func transact(
        _ envelope: SMTPEnvelope, commandsSent: PipelinedTransaction?, nextEnvelope: () -> SMTPEnvelope?,
        pipelined: inout PipelinedTransaction?
    ) throws -> SMTPDeliveryReport {
        let replies: TransactionReplies
        if let commandsSent {
            needsReset = true
            replies = try readPipelinedReplies(mailFrom: commandsSent.mailFrom, rcptTos: commandsSent.rcptTos)
        } else {
            if needsReset {
                try reset()
            }
            needsReset = true

            try checkSize(of: envelope)
            let mailFrom = SMTPCommand.mailFrom(envelope.sender, parameters: try mailParameters(for: envelope))
            let rcptTos = envelope.recipients.map(SMTPCommand.rcptTo)
            replies = extensions["PIPELINING"] != nil
                ? try pipelinedReplies(mailFrom: mailFrom, rcptTos: rcptTos)
                : try sequentialReplies(mailFrom: mailFrom, rcptTos: rcptTos)
        }

        guard replies.mail.isPositiveCompletion else {
            throw SMTPError(step: .mailFrom, server: server, command: replies.mailFrom, reply: replies.mail)
        }
        var report = recipientReport(envelope.recipients, replies: replies.recipients)

        guard !report.accepted.isEmpty else {
            if replies.data?.code == 354 {
                // A server that starts DATA with no recipient cannot be trusted with the rest
                // of the session, so the connection is dropped instead of sending a message.
                isBroken = true
            }
            let rejections = zip(envelope.recipients, replies.recipients).filter { !$0.1.isPositiveCompletion }
            throw NoRecipientAcceptedError(server: server, rejections: rejections.map { ($0.0, $0.1) })
        }

        let dataReply = try replies.data ?? exchange(.data, step: .data)
        guard dataReply.code == 354 else {
            throw SMTPError(step: .data, server: server, command: .data, reply: dataReply)
        }

        pipelined = nextTransaction(nextEnvelope)
        let finalReply = try transmit(envelope.message, followedBy: pipelined)
        needsReset = false
        if finalReply.code == 421 {
            // The server is closing the connection (RFC 5321 section 3.8).
            isBroken = true
        }
        guard finalReply.isPositiveCompletion else {
            throw SMTPError(step: .messageData, server: server, reply: finalReply, detail: "the server rejected the message")
        }
        messagesSent += 1
        report.response = finalReply.description
        return report
    }

    /// Takes the next message to pipeline after this one's data, when the server offers
    /// PIPELINING and the message passes the checks its MAIL FROM needs. A message that fails
    /// them is left to `nextEnvelope`'s caller, which sends it on its own and gets the error.
    private func nextTransaction(_ nextEnvelope: () -> SMTPEnvelope?) -> PipelinedTransaction? {
        guard extensions["PIPELINING"] != nil, let envelope = nextEnvelope() else { return nil }
        guard (try? checkSize(of: envelope)) != nil, let parameters = try? mailParameters(for: envelope) else { return nil }
        return PipelinedTransaction(
            envelope: envelope, mailFrom: .mailFrom(envelope.sender, parameters: parameters),
            rcptTos: envelope.recipients.map(SMTPCommand.rcptTo))
    }

    /// Ends an unfinished transaction so the next one starts clean.
    func reset() throws(SMTPError) {
        let reply = try exchange(.reset, step: .mailFrom)
        guard reply.isPositiveCompletion else {
            throw SMTPError(step: .mailFrom, server: server, command: .reset, reply: reply)
        }
        needsReset = false
    }

    private struct TransactionReplies {
        var mailFrom: SMTPCommand
        var mail: SMTPReply
        var recipients: [SMTPReply]
        /// The reply to DATA when it was pipelined; `nil` when DATA is still to be sent.
        var data: SMTPReply?
    }

    /// Sends MAIL FROM, every RCPT TO and DATA in one write and reads their replies in order.
    /// DATA may be the last command of a pipelined group (RFC 2920 section 3.1). A server
    /// rejects it when no recipient was accepted, so no message can start without one.
    private func pipelinedReplies(mailFrom: SMTPCommand, rcptTos: [SMTPCommand]) throws(SMTPError) -> TransactionReplies {
        try writeCommands([mailFrom] + rcptTos + [.data], step: .mailFrom)
        return try readPipelinedReplies(mailFrom: mailFrom, rcptTos: rcptTos)
    }

    private func readPipelinedReplies(mailFrom: SMTPCommand, rcptTos: [SMTPCommand]) throws(SMTPError) -> TransactionReplies {
        let mail = try readCommandReply(mailFrom, step: .mailFrom)
        var recipients: [SMTPReply] = []
        for rcptTo in rcptTos {
            recipients.append(try readCommandReply(rcptTo, step: .recipients))
        }
        let data = try readCommandReply(.data, step: .data)
        return TransactionReplies(mailFrom: mailFrom, mail: mail, recipients: recipients, data: data)
    }

    private func sequentialReplies(mailFrom: SMTPCommand, rcptTos: [SMTPCommand]) throws(SMTPError) -> TransactionReplies {
        let mail = try exchange(mailFrom, step: .mailFrom)
        guard mail.isPositiveCompletion else {
            return TransactionReplies(mailFrom: mailFrom, mail: mail, recipients: [], data: nil)
        }

        var recipients: [SMTPReply] = []
        for rcptTo in rcptTos {
            let reply = try exchange(rcptTo, step: .recipients)
            // 421: the server is closing the connection, so no later command can succeed.
            guard reply.code != 421 else {
                throw SMTPError(step: .recipients, server: server, command: rcptTo, reply: reply)
            }
            recipients.append(reply)
        }
        return TransactionReplies(mailFrom: mailFrom, mail: mail, recipients: recipients, data: nil)
    }

    private func recipientReport(_ recipients: [String], replies: [SMTPReply]) -> SMTPDeliveryReport {
        var report = SMTPDeliveryReport()
        for (recipient, reply) in zip(recipients, replies) {
            if reply.isPositiveCompletion {
                report.accepted.append(recipient)
                continue
            }
            if reply.isTransientFailure {
                report.pending.append(recipient)
            } else {
                report.rejected.append(recipient)
            }
            report.recipientReplies.append("\(recipient): \(reply)")
            logger.info("recipient rejected", ["smtp.recipient": recipient, "smtp.reply": reply.description])
        }
        return report
    }

    private func writeCommands(_ commands: [SMTPCommand], step: SMTPError.Step) throws(SMTPError) {
        guard let socket else { throw SMTPError(step: step, server: server, detail: "not connected") }
        let bytes = commandBytes(commands)
        do {
            try socket.write(bytes, deadline: Deadline(after: configuration.timeouts.command), what: "sending the pipelined commands")
        } catch let error as TransportError {
            isBroken = true
            throw SMTPError(step: step, server: server, detail: error.message)
        } catch {
            isBroken = true
            throw SMTPError(step: step, server: server, detail: "\(error)")
        }
    }

    /// Returns the command lines as they go on the wire, and logs each at trace level.
    private func commandBytes(_ commands: [SMTPCommand]) -> [UInt8] {
        for command in commands {
            logger.trace("command", ["smtp.command": command.logLine])
        }
        return Array(commands.map { $0.wireLine + "\r\n" }.joined().utf8)
    }

    /// Reads the reply to one pipelined command. A 421 means the server is closing the
    /// connection (RFC 5321 section 3.8), so no later reply will come: it ends the transaction
    /// with that reply.
    private func readCommandReply(_ command: SMTPCommand, step: SMTPError.Step) throws(SMTPError) -> SMTPReply {
        guard let socket else { throw SMTPError(step: step, server: server, detail: "not connected") }
        do {
            let deadline = Deadline(after: configuration.timeouts.command)
            let reply = try readReply(socket: socket, deadline: deadline, what: "waiting for the reply to \(command.logLine)")
            if reply.code == 421 {
                isBroken = true
                throw SMTPError(step: step, server: server, command: command, reply: reply)
            }
            return reply
        } catch let error as SMTPError {
            throw error
        } catch let error as TransportError {
            isBroken = true
            throw SMTPError(step: step, server: server, command: command, detail: error.message)
        } catch {
            isBroken = true
            throw SMTPError(step: step, server: server, command: command, detail: "\(error)")
        }
    }

    // MARK: - Parameters

    /// Refuses a message larger than the server's SIZE limit (RFC 1870) before sending it.
    private func checkSize(of envelope: SMTPEnvelope) throws(SMTPError) {
        guard let limitText = extensions["SIZE"], let limit = Int(limitText), limit > 0 else { return }
        guard envelope.message.count <= limit else {
            throw SMTPError(
                step: .mailFrom, server: server,
                detail: "the message is \(envelope.message.count) octets and the server accepts at most \(limit) (SIZE); send smaller attachments")
        }
    }

    /// Returns the MAIL FROM parameters: `SIZE` when the server declares it, `SMTPUTF8` (RFC 6531) for
    /// UTF-8 addresses and header fields, `BODY=8BITMIME` (RFC 6152) for octets above 127.
    /// Throws when the server does not offer what the message needs, because sending it anyway
    /// could corrupt it.
    private func mailParameters(for envelope: SMTPEnvelope) throws(SMTPError) -> [String] {
        var parameters: [String] = []
        if extensions["SIZE"] != nil {
            parameters.append("SIZE=\(envelope.message.count)")
        }
        if envelope.requiresSMTPUTF8 {
            guard extensions["SMTPUTF8"] != nil else {
                throw SMTPError(
                    step: .mailFrom, server: server,
                    detail: "an address has non-ASCII characters before the @, and the server does not offer SMTPUTF8; use an ASCII address or a server that supports SMTPUTF8")
            }
            parameters.append("SMTPUTF8")
        }
        if envelope.requiresSMTPUTF8 || envelope.containsEightBitBody {
            guard extensions["8BITMIME"] != nil else {
                throw SMTPError(
                    step: .mailFrom, server: server,
                    detail: "the message has 8-bit content and the server does not offer 8BITMIME; send the attachment or raw part in base64")
            }
            parameters.append("BODY=8BITMIME")
        }
        return parameters
    }

    // MARK: - Message data

    /// Sends the message with dot-stuffing (RFC 5321 section 4.5.2) and the final `.`, then
    /// reads the reply. The next message's commands, when given, go in the same write. Once the
    /// data is on its way the server may deliver it even if the reply never arrives, so every
    /// failure from here on states that the message may have been delivered.
    private func transmit(_ message: [UInt8], followedBy next: PipelinedTransaction?) throws(SMTPError) -> SMTPReply {
        guard let socket else { throw SMTPError(step: .messageData, server: server, detail: "not connected") }
        let deadline = Deadline(after: configuration.timeouts.data)

        var bytes = Self.dotStuffed(message)
        if let next {
            bytes.append(contentsOf: commandBytes([next.mailFrom] + next.rcptTos + [.data]))
        }
        do {
            try socket.write(bytes, deadline: deadline, what: "sending the message data")
            logger.trace("sent message data", ["smtp.bytes": String(message.count)])
            return try readReply(socket: socket, deadline: deadline, what: "waiting for the reply to the message data")
        } catch let error as TransportError {
            isBroken = true
            throw SMTPError(step: .messageData, server: server, detail: error.message, mayHaveBeenDelivered: true)
        } catch {
            isBroken = true
            throw SMTPError(step: .messageData, server: server, detail: "\(error)", mayHaveBeenDelivered: true)
        }
    }

    static func dotStuffed(_ message: [UInt8]) -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(message.count + message.count / 64 + 5)

        // Copies the runs between lines that start with "." in one step each; most messages
        // have none, so the whole message is one copy. memchr finds the line breaks, so the
        // search does not visit every byte in Swift.
        message.withUnsafeBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return }
            var runStart = 0
            var lineStart = 0
            while lineStart < bytes.count {
                if bytes[lineStart] == UInt8(ascii: ".") {
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<lineStart]))
                    output.append(UInt8(ascii: "."))
                    runStart = lineStart
                }
                guard let lineFeed = memchr(base + lineStart, 0x0A, bytes.count - lineStart) else { break }
                lineStart = base.distance(to: lineFeed.assumingMemoryBound(to: UInt8.self)) + 1
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        }

        if let last = message.last, last != 0x0A {
            output.append(0x0D)
            output.append(0x0A)
        }
        output.append(UInt8(ascii: "."))
        output.append(0x0D)
        output.append(0x0A)
        return output
    }
}
