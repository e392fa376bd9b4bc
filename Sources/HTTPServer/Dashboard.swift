/// The web dashboard: the page at `/`, its script and its style sheet.
///
/// The page contains no documents, so it is served without the API token. Its script reads
/// everything through `/v1` and `/metrics`, and sends the token that the user enters there.
enum Dashboard {
    static let scriptPath = "/dashboard.js"
    static let stylePath = "/dashboard.css"

    /// The Content-Security-Policy of every dashboard response.
    ///
    /// Nothing loads from outside the service, and scripts only from `/dashboard.js`. `style-src`
    /// allows inline styles because the HTML preview is an `iframe srcdoc`, which inherits this
    /// policy, and e-mail HTML is styled inline: without it, Chromium 156 drops the preview's
    /// styles. The preview's sandbox runs no script. `img-src data:` lets the preview show
    /// images embedded in the HTML, never remote ones.
    static let contentSecurityPolicy = [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ].joined(separator: "; ")

    /// Returns the dashboard's response to `request`. Throws 404 for a path that is not the
    /// dashboard's and 405 for a method other than GET or HEAD.
    static func response(to request: HTTPRequest, mailCollection: String) throws -> HTTPResponse {
        let body: String
        let contentType: String
        var headers: [(name: String, value: String)] = []

        switch request.path {
        case "/":
            let language = DashboardLanguage.preferred(byAcceptLanguage: request.headers["accept-language"])
            body = DashboardPage.render(language: language, mailCollection: mailCollection)
            contentType = "text/html; charset=utf-8"
            headers.append(("Content-Language", language.rawValue))
            headers.append(("Vary", "Accept-Language"))
        case scriptPath:
            body = DashboardScript.source
            contentType = "text/javascript; charset=utf-8"
        case stylePath:
            body = DashboardStyle.source
            contentType = "text/css; charset=utf-8"
        default:
            throw APIError.notFound(request.path)
        }

        guard request.method == "GET" || request.method == "HEAD" else {
            throw APIError.methodNotAllowed(request.method, request.path, allowed: ["GET", "HEAD"])
        }

        headers += [
            ("Content-Type", contentType),
            // The assets change with the program, so the browser revalidates them every time.
            ("Cache-Control", "no-cache"),
            ("Content-Security-Policy", contentSecurityPolicy),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
        ]
        return HTTPResponse(status: 200, headers: headers, body: .bytes(Array(body.utf8)))
    }
}
