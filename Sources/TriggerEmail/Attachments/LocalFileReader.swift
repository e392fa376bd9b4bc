import BlockingThreads
import Foundation

/// Reads attachments from local files, but only from inside the configured directory. The path
/// is resolved first (`..`, symbolic links) and checked. It is then opened one component at a
/// time without following symbolic links, so a link swapped in after the check cannot lead out.
///
/// A relative path is taken relative to the directory, not to the working directory.
struct LocalFileReader: Sendable {
    /// `ATTACHMENT_DIRECTORY`; `nil` allows no file.
    var allowedDirectory: String?
    var blockingThreads: BlockingThreadPool

    func read(_ path: String, limit: SizeLimit) async throws(AttachmentLoadingError) -> [UInt8] {
        guard let allowedDirectory else {
            throw AttachmentLoadingError(
                "cannot read \(path): local files are allowed only under ATTACHMENT_DIRECTORY, which is not set")
        }

        // C functions would read the path only up to the NUL, so it would name another file.
        guard !path.utf8.contains(0) else {
            throw AttachmentLoadingError("cannot read \(String(reflecting: path)): the path contains a NUL character")
        }

        do {
            return try await blockingThreads.run {
                try Self.readInside(allowedDirectory, path: path, limit: limit)
            }
        } catch let error as AttachmentLoadingError {
            throw error
        } catch {
            throw AttachmentLoadingError("cannot read \(path): \(error)")
        }
    }

    /// Does the blocking work of `read`, on a blocking thread.
    private static func readInside(_ directory: String, path: String, limit: SizeLimit) throws(AttachmentLoadingError) -> [UInt8] {
        func failure(_ reason: String) -> AttachmentLoadingError {
            AttachmentLoadingError("cannot read \(path): \(reason)")
        }
        let outside = failure("local files are allowed only under ATTACHMENT_DIRECTORY (\(directory))")

        guard let root = resolve(directory) else {
            throw failure("ATTACHMENT_DIRECTORY (\(directory)) cannot be opened: \(systemError())")
        }
        let requested = path.hasPrefix("/") ? path : root + "/" + path

        // Checking the path as written first means that a path outside the directory is
        // rejected the same way whether or not the file exists, so the error reveals nothing
        // about files outside. The directory may be written as configured or as resolved.
        let absoluteDirectory = directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory
        let configuredRoot = lexicallyNormalized(absoluteDirectory)
        guard let lexical = lexicallyNormalized(requested),
            isInside(lexical, root) || configuredRoot.map({ isInside(lexical, $0) }) == true
        else {
            throw outside
        }
        guard let resolved = resolve(requested) else {
            throw failure(systemError())
        }
        guard isInside(resolved, root) else { throw outside }

        let relative = resolved.dropFirst(root == "/" ? 1 : root.count + 1)
        let descriptor = try openWithoutFollowingLinks(root: root, components: relative.split(separator: "/"), failure: failure)
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure(systemError()) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw failure("it is not a regular file") }
        try limit.check(Int(status.st_size))

        return try readAll(descriptor, limit: limit, failure: failure)
    }

    /// `realpath`: the absolute path without `.`, `..` or symbolic links; `nil` with `errno` set
    /// when a component does not exist or cannot be searched.
    private static func resolve(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `path` (absolute) with `.` and `..` removed textually, without looking at the file
    /// system; `nil` when `..` climbs above `/`.
    private static func lexicallyNormalized(_ path: String) -> String? {
        var components: [Substring] = []
        for component in path.split(separator: "/") {
            switch component {
            case ".":
                continue
            case "..":
                guard !components.isEmpty else { return nil }
                components.removeLast()
            default:
                components.append(component)
            }
        }
        return "/" + components.joined(separator: "/")
    }

    private static func isInside(_ path: String, _ root: String) -> Bool {
        root == "/" || path == root || path.hasPrefix(root + "/")
    }

    /// Opens `root`, then each component below it with `O_NOFOLLOW`, so that a symbolic link
    /// created after `realpath` fails with `ELOOP` instead of being followed.
    private static func openWithoutFollowingLinks(
        root: String, components: [Substring], failure: (String) -> AttachmentLoadingError
    ) throws(AttachmentLoadingError) -> Int32 {
        var current = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard current >= 0 else { throw failure(systemError()) }

        for (index, component) in components.enumerated() {
            let isLast = index == components.count - 1
            // O_NONBLOCK keeps the open from waiting on a FIFO; it is not a regular file and is
            // rejected after fstat.
            let flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (isLast ? O_NONBLOCK : O_DIRECTORY)
            let next = openat(current, String(component), flags)
            let openError = errno
            close(current)
            guard next >= 0 else {
                if openError == ELOOP || openError == ENOTDIR {
                    throw failure("the path changed while it was being opened")
                }
                throw failure(systemError(openError))
            }
            current = next
        }
        return current
    }

    private static func readAll(
        _ descriptor: Int32, limit: SizeLimit, failure: (String) -> AttachmentLoadingError
    ) throws(AttachmentLoadingError) -> [UInt8] {
        var content: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(systemError())
            }
            if count == 0 { return content }

            content.append(contentsOf: buffer[..<count])
            // The file may have grown since fstat.
            try limit.check(content.count)
        }
    }

    private static func systemError(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }
}
