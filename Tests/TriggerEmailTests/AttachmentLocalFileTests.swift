import DocumentStore
import Foundation
import MIME
import TestSupport
import Testing
import TriggerEmail

/// Attaching local files: only files under `ATTACHMENT_DIRECTORY`, after `..` and symbolic
/// links are resolved. Each test builds its own folders:
///
/// ```
/// allowed/report.txt          allowed/sub/nested.csv
/// allowed/inner-link.txt -> allowed/report.txt
/// allowed/escape.txt     -> outside/secret.txt
/// allowed/outside-dir    -> outside/
/// outside/secret.txt
/// ```
@Suite("Attachment local files")
struct AttachmentLocalFileTests {
    let base: URL
    let allowed: String
    let outside: String

    init() throws {
        base = try TestEnvironment.makeTemporaryDirectory()
        allowed = base.appendingPathComponent("allowed").path
        outside = base.appendingPathComponent("outside").path

        let files = FileManager.default
        try files.createDirectory(atPath: allowed + "/sub", withIntermediateDirectories: true)
        try files.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try Data("report".utf8).write(to: URL(fileURLWithPath: allowed + "/report.txt"))
        try Data("a,b\n".utf8).write(to: URL(fileURLWithPath: allowed + "/sub/nested.csv"))
        try Data("secret".utf8).write(to: URL(fileURLWithPath: outside + "/secret.txt"))
        try files.createSymbolicLink(atPath: allowed + "/inner-link.txt", withDestinationPath: allowed + "/report.txt")
        try files.createSymbolicLink(atPath: allowed + "/escape.txt", withDestinationPath: outside + "/secret.txt")
        try files.createSymbolicLink(atPath: allowed + "/outside-dir", withDestinationPath: outside)
    }

    var loader: AttachmentLoader {
        AttachmentLoader(settings: AttachmentSettings(allowedDirectory: allowed))
    }

    @Test("Absolute path inside the directory")
    func absolutePath() async throws {
        let attachments = try await loader.load([["path": .string(allowed + "/report.txt")]])

        let attachment = try #require(attachments.first)
        #expect(attachment.content == Array("report".utf8))
        #expect(attachment.filename == "report.txt")
        #expect(attachment.contentType == "text/plain; charset=utf-8")
    }

    @Test("Relative paths start at the directory")
    func relativePaths() async throws {
        for path in ["sub/nested.csv", "./sub/nested.csv", "sub/../sub/nested.csv", allowed + "/sub/./nested.csv"] {
            let attachments = try await loader.load([["path": .string(path)]])
            #expect(attachments.first?.content == Array("a,b\n".utf8), "\(path)")
            #expect(attachments.first?.filename == "nested.csv", "\(path)")
        }
    }

    @Test("Symbolic link inside the directory")
    func linkInside() async throws {
        let attachments = try await loader.load([["path": "inner-link.txt"]])

        #expect(attachments.first?.content == Array("report".utf8))
        #expect(attachments.first?.filename == "inner-link.txt")
    }

    @Test("No directory configured")
    func noDirectory() async {
        let message = await loadingError(AttachmentLoader(), [["path": "/etc/passwd"]])

        #expect(message == "message.attachments[0] (passwd) cannot read /etc/passwd: local files are allowed only under ATTACHMENT_DIRECTORY, which is not set.")
    }

    @Test("Paths outside the directory")
    func outsidePaths() async {
        let paths = [
            "/etc/passwd",
            outside + "/secret.txt",
            "../outside/secret.txt",
            allowed + "/../outside/secret.txt",
            "sub/../../outside/secret.txt",
            "../outside/missing.txt",
            "/../../etc/passwd",
            base.path + "/allowed-sibling/x.txt",
        ]
        for path in paths {
            let name = path.split(separator: "/").last.map(String.init) ?? path
            let message = await loadingError(loader, [["path": .string(path)]])
            #expect(message == "message.attachments[0] (\(name)) cannot read \(path): local files are allowed only under ATTACHMENT_DIRECTORY (\(allowed)).")
        }
    }

    @Test("Symbolic links leading outside")
    func linksLeadingOutside() async {
        for path in ["escape.txt", "outside-dir/secret.txt", allowed + "/outside-dir/secret.txt"] {
            let name = path.split(separator: "/").last.map(String.init) ?? path
            let message = await loadingError(loader, [["path": .string(path)]])
            #expect(message == "message.attachments[0] (\(name)) cannot read \(path): local files are allowed only under ATTACHMENT_DIRECTORY (\(allowed)).")
        }
    }

    @Test("Missing file")
    func missingFile() async {
        let message = await loadingError(loader, [["path": "missing.txt"]])

        #expect(message == "message.attachments[0] (missing.txt) cannot read missing.txt: No such file or directory.")
    }

    @Test("Path with a NUL character")
    func nulCharacter() async {
        let message = await loadingError(loader, [["filename": "a.txt", "path": "report.txt\u{0}.pdf"]])

        #expect(message == "message.attachments[0] (a.txt) cannot read \"report.txt\\0.pdf\": the path contains a NUL character.")
    }

    @Test("Directories and FIFOs are not read")
    func notRegularFiles() async throws {
        #expect(mkfifo(allowed + "/pipe", 0o600) == 0)

        let directory = await loadingError(loader, [["filename": "sub.bin", "path": "sub"]])
        #expect(directory == "message.attachments[0] (sub.bin) cannot read sub: it is not a regular file.")

        let root = await loadingError(loader, [["filename": "root.bin", "path": "."]])
        #expect(root == "message.attachments[0] (root.bin) cannot read .: it is not a regular file.")

        let fifo = await loadingError(loader, [["path": "pipe"]])
        #expect(fifo == "message.attachments[0] (pipe) cannot read pipe: it is not a regular file.")
    }

    @Test("Missing directory")
    func missingDirectory() async {
        let missing = base.path + "/missing-directory"
        let loader = AttachmentLoader(settings: AttachmentSettings(allowedDirectory: missing))

        let message = await loadingError(loader, [["path": "a.txt"]])

        #expect(message == "message.attachments[0] (a.txt) cannot read a.txt: ATTACHMENT_DIRECTORY (\(missing)) cannot be opened: No such file or directory.")
    }

    @Test("File over the size limit")
    func sizeLimit() async {
        let loader = AttachmentLoader(settings: AttachmentSettings(maxBytes: 5, allowedDirectory: allowed))

        let message = await loadingError(loader, [["path": "report.txt"]])

        #expect(message == "message.attachments[0] (report.txt) is larger than the 5-byte limit set by ATTACHMENT_MAX_BYTES.")
    }
}
