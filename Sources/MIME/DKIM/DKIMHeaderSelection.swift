/// The header fields a signature covers, chosen as RFC 6376 section 5.4.2 describes, and the
/// `h=` list that names them.
struct DKIMHeaderSelection {
    /// The `h=` names in order: each configured name once for every field of that name in the
    /// message, then `from` once more.
    ///
    /// The extra `from` matches no field, so it stands for an empty one. A verifier then hashes
    /// any From field added in transit in its place, and the signature fails. Without it, a
    /// second From added above the signed one would pass.
    let tagNames: [String]
    /// The selected fields in `h=` order, each in relaxed canonical form with its CRLF.
    let canonicalizedFields: [UInt8]

    /// Selects from `fields` the ones named in `lowercasedNames`, where a name given more than
    /// once counts once.
    ///
    /// When a name occurs in several fields, the first `h=` entry covers the bottom-most field,
    /// the next entry the one above it, and so on, as a verifier reads them.
    init(lowercasedNames: [String], fields: [RawMessage.Field]) throws(DKIMError) {
        var fieldIndicesByName: [String: [Int]] = [:]
        for (index, field) in fields.enumerated() {
            fieldIndicesByName[field.lowercasedName, default: []].append(index)
        }
        guard fieldIndicesByName["from"] != nil else {
            throw DKIMError("The message has no From header field, which a DKIM signature must cover (RFC 6376 section 5.4)")
        }

        var tagNames: [String] = []
        var canonicalizedFields: [UInt8] = []
        var seen = Set<String>()
        for name in lowercasedNames where seen.insert(name).inserted {
            for index in (fieldIndicesByName[name] ?? []).reversed() {
                tagNames.append(name)
                canonicalizedFields += DKIMCanonicalization.relaxedHeader(fields[index].bytes)
            }
        }
        tagNames.append("from")

        self.tagNames = tagNames
        self.canonicalizedFields = canonicalizedFields
    }
}
