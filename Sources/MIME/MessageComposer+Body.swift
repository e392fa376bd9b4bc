/// The body of a message as a tree of MIME entities, built from the smallest structure that
/// contains what the message has (RFC 2046):
///
/// ```
/// multipart/mixed          when there are attachments
/// └ multipart/related      when there are inline parts with a Content-ID
///   └ multipart/alternative  when there is more than one body: text, then AMP, then HTML
/// ```
/// A lone body is a single entity with no multipart around it.
extension MessageComposer {
    indirect enum BodyNode {
        /// An entity: its header fields (each ending in CRLF) and its encoded body.
        case leaf(header: String, body: [UInt8])
        /// A complete entity given as bytes: header fields, an empty line, the body.
        case raw([UInt8])
        case multipart(subtype: String, children: [BodyNode])
    }

    func bodyTree(of message: MailMessage) -> BodyNode {
        var alternatives: [BodyNode] = []
        if let text = message.text {
            alternatives.append(textLeaf(text, contentType: "text/plain; charset=utf-8"))
        }
        if let amp = message.amp {
            alternatives.append(textLeaf(amp, contentType: "text/x-amp-html; charset=utf-8"))
        }
        if let html = message.html {
            alternatives.append(textLeaf(html, contentType: "text/html; charset=utf-8"))
        }
        if alternatives.isEmpty {
            alternatives.append(textLeaf("", contentType: "text/plain; charset=utf-8"))
        }

        var tree = alternatives.count == 1 ? alternatives[0] : .multipart(subtype: "alternative", children: alternatives)

        let related = message.attachments.filter(\.belongsWithTheBody)
        if !related.isEmpty {
            tree = .multipart(subtype: "related", children: [tree] + related.map(attachmentNode))
        }

        let mixed = message.attachments.filter { !$0.belongsWithTheBody }
        if !mixed.isEmpty {
            tree = .multipart(subtype: "mixed", children: [tree] + mixed.map(attachmentNode))
        }
        return tree
    }

    private func textLeaf(_ text: String, contentType: String) -> BodyNode {
        let encoded = EncodedBody.encodeText(text)
        return .leaf(
            header: "Content-Type: \(contentType)\r\nContent-Transfer-Encoding: \(encoded.transferEncoding)\r\n",
            body: encoded.bytes)
    }

    private func attachmentNode(_ attachment: Attachment) -> BodyNode {
        if let raw = attachment.rawPart {
            return .raw(raw)
        }

        let (transferEncoding, body) = Self.encodeAttachmentContent(attachment)
        var header = ""
        header += HeaderFolding.field("Content-Type", tokens: contentTypeTokens(attachment))
        header += "Content-Transfer-Encoding: \(transferEncoding)\r\n"
        var disposition = [attachment.disposition.rawValue + (attachment.filename == nil ? "" : ";")]
        if let filename = attachment.filename {
            disposition += MIMEParameter.tokens(name: "filename", value: filename)
        }
        header += HeaderFolding.field("Content-Disposition", tokens: disposition)
        if let contentID = attachment.contentID {
            header += "Content-ID: <\(contentID)>\r\n"
        }
        for field in attachment.headers {
            header += HeaderFolding.unstructuredField(field.name, field.value)
        }
        return .leaf(header: header, body: body)
    }

    /// `type/subtype; params; name="..."`: the `name` parameter repeats the file name for clients
    /// that read only Content-Type. They predate RFC 2231, so a non-ASCII name is given there as
    /// RFC 2047 encoded-words inside the quotes, the form those clients decode. RFC 2047 does not
    /// allow that form (Python's parser notes a defect but decodes it), while Content-Disposition
    /// carries the standard RFC 2231 `filename*` that current clients read first.
    private func contentTypeTokens(_ attachment: Attachment) -> [String] {
        guard let filename = attachment.filename else { return [attachment.contentType] }

        var tokens = [attachment.contentType + ";"]
        if filename.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) {
            tokens.append("name=" + MIMEParameter.quoted(filename))
        } else {
            let words = EncodedWord.encode(filename, firstLineSpace: HeaderFolding.maxLineLength - 8)
            tokens.append("name=\"" + words.joined(separator: " ") + "\"")
        }
        return tokens
    }

    /// Encodes an attachment's bytes exactly, so a file arrives unchanged: base64, except for
    /// `message/rfc822`, which RFC 2046 section 5.2.1 allows only in 7bit or 8bit.
    static func encodeAttachmentContent(_ attachment: Attachment) -> (String, [UInt8]) {
        let mediaType = attachment.contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard mediaType == "message/rfc822" else {
            return ("base64", Base64.encodeBody(attachment.content))
        }

        let canonical = EncodedBody.canonicalLineBreaks(attachment.content)
        let isSevenBit = canonical.allSatisfy { $0 < 0x80 && $0 != 0 }
        return (isSevenBit ? "7bit" : "8bit", canonical)
    }

    // MARK: - Rendering

    /// Renders a node as its header fields and its body, choosing each boundary so that no
    /// rendered child contains it (RFC 2046 section 5.1.1).
    func render(_ node: BodyNode) -> (header: [UInt8], body: [UInt8]) {
        switch node {
        case .leaf(let header, let body):
            return (Array(header.utf8), body)

        case .raw(let bytes):
            let separator: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]
            guard let split = bytes.firstIndex(ofBytes: separator) else { return (bytes + [0x0D, 0x0A], []) }
            var body = Array(bytes[(split + separator.count)...])
            if body.endsWithLineBreak { body.removeLast(2) }
            return (Array(bytes[..<split]) + [0x0D, 0x0A], body)

        case .multipart(let subtype, let children):
            let renderedChildren = children.map { child in
                let (header, body) = render(child)
                return header + [0x0D, 0x0A] + body
            }
            let boundary = makeBoundary(avoiding: renderedChildren)

            var body: [UInt8] = []
            for child in renderedChildren {
                body += Array("--\(boundary)\r\n".utf8)
                body += child
                body += [0x0D, 0x0A]
            }
            body += Array("--\(boundary)--\r\n".utf8)
            return (Array("Content-Type: multipart/\(subtype);\r\n boundary=\"\(boundary)\"\r\n".utf8), body)
        }
    }

    /// Makes a boundary that none of `contents` contains. Encoded bodies cannot contain `=_`
    /// except in 7bit text and raw parts, so a clash is rare, and when one happens another token
    /// is drawn.
    /// After a clash a counter goes before the token, so a token source that repeats itself (a
    /// fixed token in tests) still ends the search, and no boundary is a prefix of another.
    private func makeBoundary(avoiding contents: [[UInt8]]) -> String {
        var attempt = 0
        while true {
            let boundary = attempt == 0 ? "=_\(uniqueToken())" : "=_\(attempt)_\(uniqueToken())"
            let pattern = Array(boundary.utf8)
            let clashes = contents.contains { $0.firstIndex(ofBytes: pattern) != nil }
            if !clashes { return boundary }
            attempt += 1
        }
    }
}

extension Attachment {
    /// Inline parts with a Content-ID go into multipart/related beside the HTML that refers to
    /// them; everything else goes into multipart/mixed.
    var belongsWithTheBody: Bool {
        rawPart == nil && disposition == .inline && contentID != nil
    }
}
