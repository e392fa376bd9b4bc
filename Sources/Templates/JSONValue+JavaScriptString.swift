import DocumentStore

extension JSONValue {
    /// The text JavaScript's `String(value)` produces, which handlebars.js outputs for a value.
    ///
    /// Arrays join their elements with commas, printing `null` elements as nothing, and objects
    /// print as `[object Object]`.
    var javaScriptString: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let value): return javaScriptNumberString(value)
        case .string(let value): return value
        case .object: return "[object Object]"
        case .array(let elements):
            let parts = elements.map { element -> String in
                if case .null = element { return "" }
                return element.javaScriptString
            }
            return parts.joined(separator: ",")
        }
    }
}

/// Formats a number as JavaScript's `Number.prototype.toString()` does (ECMA-262, Number::toString).
///
/// Swift's `description` already yields the shortest digits that round-trip, as JavaScript
/// requires, so only the placement of the decimal point and the exponent differ.
func javaScriptNumberString(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
    if value == 0 { return "0" }
    if value < 0 { return "-" + javaScriptNumberString(-value) }

    let (digits, pointPosition) = decimalDigits(of: value)
    let count = digits.count
    let n = pointPosition

    if count <= n && n <= 21 {
        return digits + String(repeating: "0", count: n - count)
    }
    if 0 < n && n <= 21 {
        let split = digits.index(digits.startIndex, offsetBy: n)
        return digits[..<split] + "." + digits[split...]
    }
    if -6 < n && n <= 0 {
        return "0." + String(repeating: "0", count: -n) + digits
    }

    let exponent = n - 1
    let sign = exponent < 0 ? "-" : "+"
    let mantissa = count > 1 ? "\(digits.first!)." + digits.dropFirst() : digits
    return mantissa + "e" + sign + String(abs(exponent))
}

/// Splits a positive finite number into its shortest significant digits and the position of the
/// decimal point relative to the first digit, so that `value = 0.digits × 10^pointPosition`.
private func decimalDigits(of value: Double) -> (digits: String, pointPosition: Int) {
    let text = value.description
    var mantissa = Substring(text)
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        mantissa = text[..<e]
        exponent = Int(text[text.index(after: e)...]) ?? 0
    }

    let integerPart = mantissa.prefix { $0 != "." }
    let fractionPart = mantissa.dropFirst(integerPart.count + 1)
    var digits = Array(integerPart + fractionPart)
    var pointPosition = integerPart.count + exponent

    while digits.first == "0" {
        digits.removeFirst()
        pointPosition -= 1
    }
    while digits.last == "0" {
        digits.removeLast()
    }
    return (String(digits), pointPosition)
}
