/// Punycode (RFC 3492) and the ASCII form of international domain names (RFC 5891, the
/// `xn--` labels), for servers that do not take UTF-8 addresses.
///
/// NOTE: labels are mapped with lower-casing and NFC only, not the full UTS 46 mapping, so a
/// domain with characters IDNA2008 forbids is converted instead of rejected.
public enum Punycode {
    private static let base = 36
    private static let tMin = 1
    private static let tMax = 26
    private static let skew = 38
    private static let damp = 700
    private static let initialBias = 72
    private static let initialN = 128

    /// Encodes one label's code points (RFC 3492 section 6.3); ASCII code points come first,
    /// then a `-` if there were any, then the deltas of the others.
    public static func encode(_ label: String) -> String {
        let input = label.unicodeScalars.map { Int($0.value) }
        var output = input.filter { $0 < 0x80 }.map { Character(UnicodeScalar(UInt8($0))) }
        let basicCount = output.count
        if basicCount > 0 { output.append("-") }

        var n = initialN
        var delta = 0
        var bias = initialBias
        var handled = basicCount

        while handled < input.count {
            let m = input.filter { $0 >= n }.min()!
            delta += (m - n) * (handled + 1)
            n = m

            for codePoint in input {
                if codePoint < n { delta += 1 }
                guard codePoint == n else { continue }

                var q = delta
                var k = base
                while true {
                    let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                    if q < t { break }
                    output.append(digit(t + (q - t) % (base - t)))
                    q = (q - t) / (base - t)
                    k += base
                }
                output.append(digit(q))
                bias = adapt(delta: delta, count: handled + 1, isFirst: handled == basicCount)
                delta = 0
                handled += 1
            }
            delta += 1
            n += 1
        }
        return String(output)
    }

    /// Converts a domain to its ASCII form: each non-ASCII label becomes `xn--` and its
    /// Punycode, after lower-casing and Unicode normalization form C.
    public static func asciiDomain(_ domain: String) -> String {
        // Nearly every domain is ASCII already, and this runs for each address of each message.
        if domain.utf8.allSatisfy({ $0 < 0x80 }) { return domain }
        return domain.split(separator: ".", omittingEmptySubsequences: false).map { label in
            guard !label.unicodeScalars.allSatisfy(\.isASCII) else { return String(label) }
            let normalized = String(label).lowercased().precomposedForm
            return "xn--" + encode(normalized)
        }.joined(separator: ".")
    }

    private static func digit(_ value: Int) -> Character {
        let scalar = value < 26 ? 0x61 + value : 0x30 + value - 26
        return Character(UnicodeScalar(UInt8(scalar)))
    }

    private static func adapt(delta: Int, count: Int, isFirst: Bool) -> Int {
        var delta = isFirst ? delta / damp : delta / 2
        delta += delta / count

        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }
}
