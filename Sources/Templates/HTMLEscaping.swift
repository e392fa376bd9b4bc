/// Escapes the characters that handlebars.js 4.7 escapes in `{{expression}}` output.
///
/// The set and the entities are those of handlebars.js `escapeExpression`: `&` `<` `>` `"` `'`
/// `` ` `` and `=`. Every other character is copied unchanged.
public func escapeHTML(_ text: String) -> String {
    var escaped = ""
    escaped.reserveCapacity(text.utf8.count)

    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": escaped += "&amp;"
        case "<": escaped += "&lt;"
        case ">": escaped += "&gt;"
        case "\"": escaped += "&quot;"
        case "'": escaped += "&#x27;"
        case "`": escaped += "&#x60;"
        case "=": escaped += "&#x3D;"
        default: escaped.unicodeScalars.append(scalar)
        }
    }
    return escaped
}
