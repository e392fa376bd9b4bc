/// PostgreSQL's text form of an array, so that a batch of values travels as one parameter.
enum PostgresArray {
    /// Returns `{"a","b"}` for `["a", "b"]`: every element quoted, with `"` and `\` escaped.
    static func literal(_ elements: [String]) -> String {
        var text = "{"
        text.reserveCapacity(elements.reduce(2) { $0 + $1.utf8.count + 3 })
        for (index, element) in elements.enumerated() {
            if index > 0 { text += "," }
            text += "\""
            for character in element.unicodeScalars {
                if character == "\"" || character == "\\" { text.unicodeScalars.append("\\") }
                text.unicodeScalars.append(character)
            }
            text += "\""
        }
        text += "}"
        return text
    }
}
