/// Checks of the signer's configuration, so that a mistake fails when the signer is made
/// rather than as signatures that no receiver can verify.
extension DKIMSigner {
    /// The longest DNS name in text form: RFC 1035 section 2.3.4 allows 255 octets on the
    /// wire, which is 253 characters without the final dot.
    static let maxDNSNameLength = 253
    /// The longest DNS label (RFC 1035 section 2.3.4).
    static let maxDNSLabelLength = 63

    /// Checks `d=`: a domain name of at least two labels, as RFC 6376 section 3.5 defines it.
    static func validateDomain(_ domain: String) throws(DKIMError) {
        if let problem = problemWithDNSName(domain) {
            throw DKIMError("The DKIM domain \"\(domain)\" is invalid: \(problem)")
        }
        guard domain.split(separator: ".").count >= 2 else {
            throw DKIMError("The DKIM domain \"\(domain)\" is invalid: a signing domain has at least two labels, such as example.com")
        }
    }

    /// Checks `s=`: one or more labels, and short enough that the key record's name,
    /// `<selector>._domainkey.<domain>`, is a valid DNS name.
    static func validateSelector(_ selector: String, domain: String) throws(DKIMError) {
        if let problem = problemWithDNSName(selector) {
            throw DKIMError("The DKIM selector \"\(selector)\" is invalid: \(problem)")
        }

        let recordName = "\(selector)._domainkey.\(domain)"
        guard recordName.utf8.count <= maxDNSNameLength else {
            throw DKIMError(
                "The DKIM key record name \"\(recordName)\" is \(recordName.utf8.count) characters long, but a DNS name has at most \(maxDNSNameLength), so choose a shorter selector")
        }
    }

    /// Checks that the names can be header field names (RFC 5322 section 3.6.8: printable
    /// ASCII other than a colon) and include From, which every DKIM signature must cover
    /// (RFC 6376 section 5.4).
    static func validateSignedHeaderNames(_ names: [String]) throws(DKIMError) {
        for name in names {
            let isFieldName = !name.isEmpty && name.utf8.allSatisfy { $0 >= 33 && $0 <= 126 && $0 != DKIMByte.colon }
            guard isFieldName else {
                throw DKIMError(
                    "The signed header name \"\(name)\" is invalid: a header field name consists of printable ASCII characters other than a colon")
            }
        }
        guard names.contains(where: { $0.lowercased() == "from" }) else {
            throw DKIMError("The signed header names do not include From, which every DKIM signature must cover (RFC 6376 section 5.4)")
        }
    }

    /// Returns what is wrong with `name` as a dot-separated DNS name of letters, digits and
    /// hyphens (the host name rule of RFC 5321 section 4.1.2), or `nil` when it is valid.
    private static func problemWithDNSName(_ name: String) -> String? {
        guard !name.isEmpty else { return "it is empty" }
        guard name.utf8.count <= maxDNSNameLength else {
            return "it is \(name.utf8.count) characters long, but a DNS name has at most \(maxDNSNameLength)"
        }

        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty else {
                return "it has an empty label (two dots in a row, or a dot at the start or end)"
            }
            guard label.utf8.count <= maxDNSLabelLength else {
                return "the label \"\(label)\" is \(label.utf8.count) characters long, but a DNS label has at most \(maxDNSLabelLength)"
            }

            guard label.utf8.allSatisfy(isLetterDigitOrHyphen), label.first != "-", label.last != "-" else {
                let rule = "the label \"\(label)\" must consist of ASCII letters, digits and hyphens and must not start or end with a hyphen"
                guard label.unicodeScalars.allSatisfy(\.isASCII) else {
                    return rule + ", so write an internationalized name in its xn-- (A-label) form"
                }
                return rule
            }
        }
        return nil
    }

    private static func isLetterDigitOrHyphen(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
