import DocumentStore

/// The fields that a listing's documents keep, from the `fields` query parameter: dotted paths
/// separated by commas, such as `to,message.subject,delivery.state`.
///
/// A mail document can carry its attachments, megabytes of base64, and a listing of fifty such
/// documents, sent again on every change of a watched page, would cost memory on both sides.
/// The dashboard's table requests only the fields it shows. A field whose name contains a dot
/// cannot be selected on its own; its parent can.
struct FieldMask: Sendable {
    static let maxPaths = 100

    private let paths: [[String]]

    /// Reads the parameter, or returns `nil` when it is missing. Throws a 400 for an empty path,
    /// an empty segment such as `message..subject`, or more than `maxPaths` paths.
    init?(parsing text: String?) throws {
        guard let text else { return nil }

        let paths = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        }
        guard paths.allSatisfy({ path in path.allSatisfy { !$0.isEmpty } }) else {
            throw APIError.invalid(
                "Invalid fields \"\(text)\": use field paths separated by commas, such as to,message.subject,delivery.state.")
        }
        guard paths.count <= Self.maxPaths else {
            throw APIError.invalid("Invalid fields: \(paths.count) field paths, more than the \(Self.maxPaths) allowed.")
        }
        self.paths = paths
    }

    /// Returns the fields of `data` that the paths name, nested as in `data`. Paths that lead
    /// nowhere add nothing.
    func apply(to data: JSONObject) -> JSONObject {
        var selected: JSONObject = [:]
        for path in paths {
            Self.copy(path[...], from: data, into: &selected)
        }
        return selected
    }

    private static func copy(_ path: ArraySlice<String>, from source: JSONObject, into target: inout JSONObject) {
        guard let name = path.first, let value = source[name] else { return }
        guard path.count > 1 else {
            target[name] = value
            return
        }
        guard let child = value.objectValue else { return }

        var nested = target[name]?.objectValue ?? [:]
        copy(path.dropFirst(), from: child, into: &nested)
        if !nested.isEmpty { target[name] = .object(nested) }
    }
}
