import DocumentStore
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The dashboard served by `trigger-email serve`, driven in headless Chromium by
/// `python/dashboard_browser.py`. Each case keeps its screenshots in `test-artifacts/`.
///
/// The cases run one at a time, because each starts a browser and the delivery timings of the
/// live case must not compete with another browser for the CPU.
@Suite("Dashboard in a browser", .serialized, .enabled(if: BrowserTools.shouldRun, BrowserTools.skipReason))
struct DashboardBrowserTests {
    static let from = "Shop <shop@example.com>"

    @Test("List shows PENDING to SUCCESS live")
    func listUpdatesLive() async throws {
        // With one SMTP connection and MAX_CLAIMED_DOCUMENTS=4 the processor claims four
        // documents at most, so the fifth stays PENDING until the first is delivered, 2 s later.
        let smtp = try await SMTPTestServer.start(.init(dataDelay: 2))
        let token = UUID().uuidString
        let serve = try await DashboardServe.start(environment: [
            "SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(smtp.port)", "SMTP_POOL_SIZE": "1", "MAX_CLAIMED_DOCUMENTS": "4", "API_TOKEN": token,
        ])

        let outcome = await capturingResult { try await BrowserTools.run(case: "live", url: serve.url, arguments: ["--token", token, "--documents", "5"]) }
        await serve.stop()
        let report = try outcome.get()

        #expect(report[path: "failure"] == .null)
        #expect(report[path: "language"] == "en")
        #expect(report[path: "tokenPanelShown"] == true)
        #expect(report[path: "tokenInputFocused"] == true)
        #expect(report[path: "tokenStored"] == true)

        let ids = try #require(report[path: "documents"]?.strings)
        #expect(ids.count == 5)
        let last = try #require(ids.last)
        #expect(report[path: "rowStates"]?[path: last]?.strings == ["PENDING", "PROCESSING", "SUCCESS"])
        for id in ids {
            let states = report[path: "rowStates"]?[path: id]?.strings ?? []
            #expect(states.count >= 2, "document \(id) showed only \(states)")
            #expect(states.last == "SUCCESS", "document \(id) showed \(states)")
        }
        #expect(report[path: "counts"] == ["PENDING": "0", "PROCESSING": "0", "SUCCESS": "5", "ERROR": "0", "RETRY": "0"])
        #expect(report[path: "pageKept"] == true)

        #expect(report[path: "searchRows"]?.strings == [last])
        #expect(report[path: "errorFilterURL"]?.stringValue?.hasSuffix("#/?state=ERROR") == true)
        #expect(report[path: "errorFilterStatus"] == "No documents match the filter.")
        #expect(report[path: "successFilterRows"] == 5)

        #expect(report[path: "documentPageState"] == "SUCCESS")
        #expect(report[path: "headingFocused"] == true)
        #expect(report[path: "documentRecipients"] == "live-5@example.org")
        #expect(report[path: "pageKeptAfterDocument"] == true)
        #expect(report[path: "missingDocumentStatus"] == "There is no document no-such-document.")

        #expect(try smtp.receivedMessages().count == 5)
        BrowserTools.expectScreenshots(report, ["dashboard-live-pending", "dashboard-live-update"])
    }

    @Test("Retry on ERROR document delivers it")
    func retryDeliversErrorDocuments() async throws {
        // Nothing listens on the SMTP port at first, so both documents end in ERROR.
        let smtpPort = try TestEnvironment.unusedLoopbackPort()
        let imagePort = try TestEnvironment.unusedLoopbackPort()
        let serve = try await DashboardServe.start(environment: ["SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(smtpPort)"])

        let html = """
            <div style="color: rgb(0, 90, 0)"><p>Preview body</p>\
            <img src="http://127.0.0.1:\(imagePort)/remote.png" alt="remote image">\
            <script>document.body.setAttribute('data-script-ran', 'yes')</script></div>
            """
        let previewed = try await serve.add(["to": "first@example.org", "message": ["subject": "First", "text": "Hi", "html": .string(html)]])
        let retriedAll = try await serve.add(["to": "second@example.org", "message": ["subject": "Second", "text": "Hi"]])
        let failed = try await serve.program.waitForState(previewed, ["ERROR"])
        _ = try await serve.program.waitForState(retriedAll, ["ERROR"])
        let error = try #require(failed[path: "data.delivery.error"]?.stringValue)

        let smtp = try await SMTPTestServer.start(.init(port: smtpPort))
        let outcome = await capturingResult {
            try await BrowserTools.run(
                case: "retry", url: serve.url,
                arguments: ["--document", previewed, "--retry-all-document", retriedAll, "--image-port", String(imagePort)])
        }
        let previewedAfter = try? await serve.program.document(previewed)
        await serve.stop()
        let report = try outcome.get()

        #expect(report[path: "failure"] == .null)
        #expect(report[path: "errorShown"] == .string(error))
        #expect(report[path: "previewSandbox"] == "")
        #expect(report[path: "previewText"]?.stringValue?.contains("Preview body") == true)
        #expect(report[path: "previewScriptRan"] == false)
        #expect(report[path: "remoteImageRequests"] == [])

        #expect(report[path: "retryButtonText"] == "Retry")
        let states = report[path: "documentStates"]?.strings ?? []
        #expect(states.first == "ERROR")
        #expect(states.last == "SUCCESS")
        #expect(report[path: "attemptsShown"] == "2")
        #expect(report[path: "notice"] == .string("Document \(previewed) is set to RETRY."))
        #expect(report[path: "pageKept"] == true)
        #expect(previewedAfter?[path: "data.delivery.state"] == "SUCCESS")

        #expect(report[path: "confirmText"] == "Send all documents in state ERROR again (1)?")
        let retryAllStates = report[path: "retryAllStates"]?.strings ?? []
        #expect(retryAllStates.first == "ERROR")
        #expect(retryAllStates.last == "SUCCESS")
        #expect(report[path: "retryAllNotice"] == "Documents set to RETRY: 1.")
        #expect(report[path: "counts"] == ["PENDING": "0", "PROCESSING": "0", "SUCCESS": "2", "ERROR": "0", "RETRY": "0"])
        #expect(report[path: "pageKeptAfterRetryAll"] == true)

        #expect(try smtp.receivedMessages().count == 2)
        BrowserTools.expectScreenshots(report, ["dashboard-retry-error", "dashboard-retry", "dashboard-retry-all-errors"])
    }

    @Test("Russian browser gets Russian page")
    func russianPage() async throws {
        let smtp = try await SMTPTestServer.start()
        let serve = try await DashboardServe.start(environment: ["SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(smtp.port)"])
        // 55 older documents and the one opened: the list's first page shows 50 of the 56.
        let older = (1...55).map { #"{"to": "reader-\#($0)@example.org", "message": {"subject": "Рассылка \#($0)", "text": "Текст"}}"# }
        let added = try await serve.program.run(["add", "--lines"], input: older.joined(separator: "\n") + "\n")
        #expect(added.lines.count == 55)
        let id = try await serve.add(["to": "anna@example.org", "message": ["subject": "Ваш заказ отправлен", "text": "Здравствуйте!"]])
        _ = try await serve.program.waitForState(id, ["SUCCESS"])

        let outcome = await capturingResult { try await BrowserTools.run(case: "russian", url: serve.url, arguments: ["--language", "ru", "--document", id]) }
        await serve.stop()
        let report = try outcome.get()

        #expect(report[path: "failure"] == .null)
        #expect(report[path: "language"] == "ru")
        #expect(report[path: "title"] == "Панель trigger-email")
        #expect(report[path: "headings"]?.strings == ["Документы по состояниям", "Коллекция писем mail"])
        #expect(report[path: "labels"]?.strings == ["Состояние", "Поиск по получателям и теме"])
        #expect(report[path: "columns"]?.strings == ["Создан", "Состояние", "Получатели", "Тема", "Попытки", "Действия"])
        #expect(report[path: "buttons"]?.strings == ["Повторить все документы в ERROR", "Найти", "Сбросить", "Показать ещё"])
        #expect(report[path: "countStates"]?.strings == ["PENDING", "PROCESSING", "SUCCESS", "ERROR", "RETRY"])
        #expect(report[path: "listStatus"] == "Показано документов: 50")
        #expect(report[path: "connection"] == "Изменения отображаются сразу")
        #expect(report[path: "loadMoreText"] == "Показать ещё")
        #expect(report[path: "rowsAfterLoadMore"] == 56)
        #expect(report[path: "listStatusAfterLoadMore"] == "Показано документов: 56")
        #expect(report[path: "loadMoreShownAfterLastPage"] == false)

        #expect(report[path: "documentHeadings"]?.strings == ["Документ \(id)", "Письмо", "Доставка", "Предпросмотр HTML"])
        #expect(report[path: "documentButton"] == "Отправить снова")
        #expect(report[path: "backLink"] == "Назад к списку")
        BrowserTools.expectScreenshots(report, ["dashboard-russian", "dashboard-russian-document"])
    }
}

@Suite("Dashboard over HTTP")
struct DashboardHTTPTests {
    @Test("Accept-Language picks the page language")
    func languageNegotiation() async throws {
        let cases: [(header: String?, expected: String)] = [
            (nil, "en"),
            ("ru", "ru"),
            ("RU", "ru"),
            ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
            ("en-US,en;q=0.9,ru;q=0.8", "en"),
            ("en;q=0.5, ru;q=0.8", "ru"),
            ("ru;q=0.5, en;q=0.5", "ru"),
            ("en;q=0.5, ru;q=0.5", "en"),
            ("ru;q=0, en;q=0.1", "en"),
            ("de-DE, ru;q=0.1", "ru"),
            ("de-DE, *;q=0.5", "en"),
            ("en;q=0.2, *", "ru"),
            ("ru;q=abc, en;q=0.2", "en"),
            ("fr, de", "en"),
        ]
        let serve = try await DashboardServe.start()
        let outcome = await capturingResult {
            var responses: [(status: Int, headers: [String: String], body: String)] = []
            for (header, _) in cases {
                responses.append(try await DashboardServe.get(serve.url, headers: header.map { ["Accept-Language": $0] } ?? [:]))
            }
            return responses
        }
        await serve.stop()
        let responses = try outcome.get()

        for ((header, expected), response) in zip(cases, responses) {
            let label = "Accept-Language: \(header ?? "(none)")"
            #expect(response.status == 200, "\(label)")
            #expect(response.body.contains("<html lang=\"\(expected)\">"), "\(label)")
            #expect(response.headers["Content-Language"] == expected, "\(label)")
            #expect(response.headers["Vary"] == "Accept-Language", "\(label)")
        }
    }

    @Test("Dashboard assets need no token and stay local")
    func assetsWithoutToken() async throws {
        let token = UUID().uuidString
        let serve = try await DashboardServe.start(environment: ["API_TOKEN": token])
        let outcome = await capturingResult {
            [
                "page": try await DashboardServe.get(serve.url),
                "ru": try await DashboardServe.get(serve.url, headers: ["Accept-Language": "ru"]),
                "script": try await DashboardServe.get(serve.url + "dashboard.js"),
                "style": try await DashboardServe.get(serve.url + "dashboard.css"),
                "api": try await DashboardServe.get(serve.url + "v1/mail"),
                "post": try await DashboardServe.get(serve.url, method: "POST"),
                "missing": try await DashboardServe.get(serve.url + "dashboard.png"),
            ]
        }
        await serve.stop()
        let responses = try outcome.get()
        let page = try #require(responses["page"])
        let script = try #require(responses["script"])
        let style = try #require(responses["style"])

        #expect(page.status == 200)
        #expect(page.headers["Content-Type"] == "text/html; charset=utf-8")
        #expect(script.status == 200)
        #expect(script.headers["Content-Type"] == "text/javascript; charset=utf-8")
        #expect(style.status == 200)
        #expect(style.headers["Content-Type"] == "text/css; charset=utf-8")
        #expect(responses["api"]?.status == 401)
        #expect(responses["post"]?.status == 405)
        #expect(responses["post"]?.headers["Allow"] == "GET, HEAD")
        #expect(responses["missing"]?.status == 404)

        for (name, response) in [("page", page), ("script", script), ("style", style)] {
            let policy = response.headers["Content-Security-Policy"] ?? ""
            #expect(policy.contains("default-src 'none'"), "\(name): \(policy)")
            #expect(policy.contains("script-src 'self';"), "\(name): \(policy)")
            #expect(policy.contains("connect-src 'self'"), "\(name): \(policy)")
            #expect(policy.contains("frame-ancestors 'none'"), "\(name): \(policy)")
            #expect(response.headers["X-Content-Type-Options"] == "nosniff", "\(name)")
            #expect(!response.body.contains("http://"), "\(name) contains a remote address")
            #expect(!response.body.contains("https://"), "\(name) contains a remote address")
        }

        // Both languages have every text of the page.
        let english = try DashboardServe.textTable(page.body)
        let russian = try DashboardServe.textTable(try #require(responses["ru"]).body)
        #expect(Set(english.keys) == Set(russian.keys))
        #expect(english.count > 40)
        let untranslated = english.filter { russian[$0.key] == $0.value }.map(\.key)
        #expect(untranslated.isEmpty, "the same in English and Russian: \(untranslated)")
    }

    @Test("Search rejects invalid limit")
    func searchLimitIsChecked() async throws {
        let serve = try await DashboardServe.start()
        _ = try await serve.add(["to": "a@example.org", "message": ["subject": "Hi", "text": "Hi"]])
        let outcome = await capturingResult {
            var statuses: [String: Int] = [:]
            for limit in ["-5", "0", "1001", "1"] {
                statuses[limit] = try await DashboardServe.get(serve.url + "v1/mail?q=example&limit=\(limit)").status
            }
            statuses["healthz"] = try await DashboardServe.get(serve.url + "healthz").status
            return statuses
        }
        await serve.stop()
        let statuses = try outcome.get()

        #expect(statuses["-5"] == 400)
        #expect(statuses["0"] == 400)
        #expect(statuses["1001"] == 400)
        #expect(statuses["1"] == 200)
        #expect(statuses["healthz"] == 200)
    }
}

/// `trigger-email serve` on a free loopback port, in a folder of its own.
struct DashboardServe {
    let program: ProgramRunner
    let child: ChildProcess
    let url: String

    static func start(environment: [String: String] = [:]) async throws -> DashboardServe {
        let program = try ProgramRunner(environment: ["DEFAULT_FROM": DashboardBrowserTests.from].merging(environment) { _, new in new })
        let (child, port) = try await program.startServe()
        return DashboardServe(program: program, child: child, url: "http://127.0.0.1:\(port)/")
    }

    /// Adds a mail document with the program's `add` and returns its ID.
    func add(_ fields: JSONObject) async throws -> String {
        let result = try await program.run(["add"], input: JSONValue.object(fields).serialized())
        guard result.status == 0, let id = result.lines.first else {
            throw TestEnvironmentError("add failed with status \(result.status): \(result.errors)")
        }
        return id
    }

    /// Stops the server with SIGTERM, and with SIGKILL when it has not exited 30 s later.
    func stop() async {
        child.terminate()
        if (try? await child.waitForExit(timeout: .seconds(30))) == nil {
            child.kill()
            _ = try? await child.waitForExit(timeout: .seconds(10))
        }
    }

    /// Sends one request and returns the status, the header fields and the body as text.
    static func get(
        _ url: String, method: String = "GET", headers: [String: String] = [:]
    ) async throws -> (status: Int, headers: [String: String], body: String) {
        var request = URLRequest(url: try #require(URL(string: url)), timeoutInterval: 30)
        request.httpMethod = method
        for (name, value) in headers {
            request.setValue(value, forHTTPHeaderField: name)
        }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.connectionProxyDictionary = [:]
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }

        let (data, response) = try await session.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var fields: [String: String] = [:]
        for case let (name as String, value as String) in http.allHeaderFields {
            fields[name] = value
        }
        return (http.statusCode, fields, String(decoding: data, as: UTF8.self))
    }

    /// Reads the text table that the page hands to its script.
    static func textTable(_ page: String) throws -> [String: String] {
        let start = try #require(page.range(of: #"<script type="application/json" id="dashboard-config">"#))
        let end = try #require(page.range(of: "</script>", range: start.upperBound..<page.endIndex))
        let config = try JSONValue(parsing: Array(page[start.upperBound..<end.lowerBound].utf8))
        let table = try #require(config[path: "text"]?.objectValue)
        return table.compactMapValues(\.stringValue)
    }
}

/// Chromium and chromedriver from Debian, and the script that drives them.
enum BrowserTools {
    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"

    static var isInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: chromium) && FileManager.default.isExecutableFile(atPath: chromedriver)
    }

    /// Outside CI, a machine without the browser skips these tests. Under `CI=true` they run
    /// and fail in `run`, so a CI machine without the browser cannot pass by skipping them.
    static var shouldRun: Bool {
        isInstalled || ProcessInfo.processInfo.environment["CI"] == "true"
    }

    static let skipReason: Comment = "Chromium or chromedriver is missing; make test installs the Debian packages chromium and chromium-driver."

    static var artifactsDirectory: URL {
        TestEnvironment.repositoryRoot.appendingPathComponent("test-artifacts")
    }

    /// Runs `dashboard_browser.py --case NAME` against `url` and returns its report.
    ///
    /// The script stops itself after 240 s, and when its standard input closes because this
    /// process died. Should it hang anyway, it is ended 60 s later. Every browser process left
    /// with its profile folder is then killed.
    static func run(case name: String, url: String, arguments: [String]) async throws -> JSONValue {
        guard isInstalled else {
            throw TestEnvironmentError("\(chromium) or \(chromedriver) is missing; install the Debian packages chromium and chromium-driver (make test does).")
        }
        let directory = try TestEnvironment.makeTemporaryDirectory()
        let profile = directory.appendingPathComponent("profile").path
        let child = try ChildProcess(
            executable: try TestEnvironment.python(),
            arguments: [
                TestEnvironment.pythonScript("dashboard_browser.py"), "--url", url, "--case", name,
                "--screenshot-dir", artifactsDirectory.path, "--profile", profile, "--deadline", "240", "--watch-stdin",
            ] + arguments,
            environment: ["PYTHONDONTWRITEBYTECODE": "1"])

        let status: Int32
        do {
            status = try await child.waitForExit(timeout: .seconds(300))
        } catch {
            child.terminate()
            if (try? await child.waitForExit(timeout: .seconds(20))) == nil { child.kill() }
            _ = await endBrowsers(using: profile)
            throw TestEnvironmentError("\(error); the script's errors:\n\(child.standardError)")
        }
        let leftovers = await endBrowsers(using: profile)
        #expect(leftovers.isEmpty, "browser processes still running after the script quit: \(leftovers)")

        guard status == 0, let line = child.standardOutput.split(separator: "\n").last else {
            throw TestEnvironmentError("dashboard_browser.py --case \(name) exited with status \(status); its errors:\n\(child.standardError)")
        }
        let report = try JSONValue(parsing: Array(line.utf8))
        if report[path: "failure"] != .null {
            Issue.record("dashboard_browser.py --case \(name): \(report[path: "failure"]?.stringValue ?? "")\n\(child.standardError)")
        }
        return report
    }

    /// Waits up to 5 s for the processes whose command line names `profile` (Chromium and its
    /// helpers) to exit, kills those still running and returns their IDs.
    static func endBrowsers(using profile: String) async -> [Int32] {
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while true {
            let running = processes(naming: profile)
            if running.isEmpty { return [] }
            if ContinuousClock.now >= deadline {
                for id in running { kill(id, SIGKILL) }
                return running
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    private static func processes(naming text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let id = Int32(entry), id != getpid(),
                let commandLine = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { return nil }
            return String(decoding: commandLine, as: UTF8.self).contains(text) ? id : nil
        }
    }

    /// Checks that the report lists `test-artifacts/NAME.png` for each name and that the files exist.
    static func expectScreenshots(_ report: JSONValue, _ names: [String]) {
        let listed = report[path: "screenshots"]?.strings ?? []
        for name in names {
            let path = artifactsDirectory.appendingPathComponent("\(name).png").path
            #expect(listed.contains(path), "no screenshot \(name).png in \(listed)")
            #expect(FileManager.default.fileExists(atPath: path), "missing \(path)")
        }
    }
}

/// Runs `body` and keeps its value or error, so that cleanup can run before either is used.
private func capturingResult<Value>(_ body: () async throws -> Value) async -> Result<Value, any Error> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}
