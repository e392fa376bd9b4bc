/// A `data:` URL (RFC 2397): `data:[<media type>][;base64],<data>`, where the data is
/// percent-encoded bytes, or base64 when `;base64` is given.
struct DataURL: Equatable {
    /// The media type with its parameters, such as `text/plain; charset=utf-8`; `nil` when the
    /// URL gives none. RFC 2397 then means `text/plain;charset=US-ASCII`, but the attachment's
    /// file name says more about the content, so the caller decides.
    var mediaType: String?
    var content: [UInt8]

    static func isDataURL(_ text: String) -> Bool {
        text.utf8.count >= 5 && text.prefix(5).lowercased() == "data:"
    }

    /// Parses `text`, which starts with `data:`. Errors continue a sentence about the attachment.
    init(parsing text: String) throws(AttachmentLoadingError) {
        let afterScheme = text.dropFirst(5)
        guard let comma = afterScheme.firstIndex(of: ",") else {
            throw AttachmentLoadingError("has a data URL without the comma that separates the media type from the data")
        }

        var parameters = afterScheme[..<comma].split(separator: ";", omittingEmptySubsequences: false).map {
            String($0.trimmingSpaces())
        }
        let isBase64 = parameters.count > 1 && parameters.last?.lowercased() == "base64"
        if isBase64 { parameters.removeLast() }

        let type = parameters.removeFirst()
        if type.isEmpty {
            mediaType = nil
        } else {
            let written = ([type] + parameters.filter { !$0.isEmpty }).joined(separator: "; ")
            guard MediaType.isValid(written) else {
                throw AttachmentLoadingError(
                    "has a data URL with the media type \(String(reflecting: written)), which is not a media type such as text/plain")
            }
            mediaType = written
        }

        let data = try Self.percentDecode(afterScheme[afterScheme.index(after: comma)...])
        if isBase64 {
            do {
                content = try Base64Decoder.decode(String(decoding: data, as: UTF8.self))
            } catch {
                throw AttachmentLoadingError("has a data URL whose data is not valid base64 (\(error.reason))")
            }
        } else {
            content = data
        }
    }

    /// Replaces each `%XX` with its byte and keeps every other character as its UTF-8 bytes.
    private static func percentDecode(_ text: Substring) throws(AttachmentLoadingError) -> [UInt8] {
        let input = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)

        var offset = 0
        while offset < input.count {
            guard input[offset] == UInt8(ascii: "%") else {
                output.append(input[offset])
                offset += 1
                continue
            }
            guard offset + 2 < input.count, let high = hexDigitValue(input[offset + 1]), let low = hexDigitValue(input[offset + 2]) else {
                let escape = String(decoding: input[offset..<min(offset + 3, input.count)], as: UTF8.self)
                throw AttachmentLoadingError("has a data URL with the invalid percent-escape \(String(reflecting: escape)) in its data")
            }
            output.append(high << 4 | low)
            offset += 3
        }
        return output
    }
}
