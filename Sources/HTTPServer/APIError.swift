import DocumentStore

/// An error response of the API: an HTTP status and a sentence with what was wrong and
/// what to do, sent as `{"error": {"code": STATUS, "message": "..."}}`.
struct APIError: Error {
    var status: Int
    var message: String
    var headers: [(name: String, value: String)]

    init(status: Int, message: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    var response: HTTPResponse {
        var response = HTTPResponse.json(["error": ["code": .number(Double(status)), "message": .string(message)]], status: status)
        response.headers += headers
        return response
    }

    static func payloadTooLarge(limit: Int) -> APIError {
        APIError(status: 413, message: "The request body is larger than \(limit) bytes; send a smaller document or raise API_MAX_BODY_BYTES.")
    }

    static let unauthorized = APIError(
        status: 401, message: "Missing or wrong bearer token: send the header Authorization: Bearer API_TOKEN.",
        headers: [("WWW-Authenticate", "Bearer")])

    static func notFound(_ path: String) -> APIError {
        APIError(status: 404, message: "Nothing at \(path): the API is under /v1/{collection} and /v1/{collection}/{id}.")
    }

    static func methodNotAllowed(_ method: String, _ path: String, allowed: [String]) -> APIError {
        APIError(
            status: 405, message: "\(method) is not allowed on \(path); use \(allowed.joined(separator: ", ")).",
            headers: [("Allow", allowed.joined(separator: ", "))])
    }

    static func invalid(_ message: String) -> APIError {
        APIError(status: 400, message: message)
    }

    /// Maps a store error to its status: 404, 409 (also for a document that cannot be read), 400,
    /// or 503 when the database failed.
    init(_ error: DocumentStoreError) {
        switch error.kind {
        case .notFound: self.init(status: 404, message: error.message)
        case .alreadyExists: self.init(status: 409, message: error.message)
        case .invalidArgument: self.init(status: 400, message: error.message)
        case .unreadable: self.init(status: 409, message: error.message)
        case .storage: self.init(status: 503, message: error.message)
        }
    }
}
