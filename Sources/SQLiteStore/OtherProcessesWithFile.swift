import Foundation

/// The processes that have a database file open, other than this process and others running
/// the same program file. Processes of this version wait for the conversion's write lock, but an
/// older worker that kept the file open would get the new schema without an error.
///
/// Two sources find them. /proc lists the descriptors of this user's processes, matched by
/// device and inode, so symbolic links and bind mounts count too. Every SQLite connection in WAL
/// mode, whichever user runs it, holds a shared lock on byte 128 of the `-shm` file (the
/// dead-man switch), and `F_GETLK` returns the process behind such a lock.
///
/// NOTE: `F_GETLK` returns one process only. When that is a process of this version, a process
/// of another user behind it is not found.
struct OtherProcessesWithFile {
    struct Holder: CustomStringConvertible {
        var processID: Int32

        var description: String {
            let command = (try? String(contentsOfFile: "/proc/\(processID)/comm", encoding: .utf8)).map { String($0.dropLast()) }
            let program = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(processID)/exe")
            let details = [command, program].compactMap { $0 }.joined(separator: ", ")
            return details.isEmpty ? "process \(processID)" : "process \(processID) (\(details))"
        }
    }

    let holders: [Holder]

    init(databasePath: String) {
        let files = Set([databasePath, databasePath + "-wal", databasePath + "-shm"].compactMap(FileIdentity.init(path:)))
        let ownProgram = FileIdentity(path: "/proc/self/exe")
        let isOther = { (processID: Int32) in
            processID != getpid() && (ownProgram == nil || FileIdentity(path: "/proc/\(processID)/exe") != ownProgram)
        }

        var processIDs = Self.processesWithDescriptors(to: files).filter(isOther)
        if let locker = Self.processLockingSharedMemory(of: databasePath), isOther(locker), !processIDs.contains(locker) {
            processIDs.append(locker)
        }
        holders = processIDs.map(Holder.init(processID:))
    }

    /// Returns the processes, among those whose /proc entries this user may read, with a
    /// descriptor open on one of `files`.
    private static func processesWithDescriptors(to files: Set<FileIdentity>) -> [Int32] {
        let fileManager = FileManager.default
        return ((try? fileManager.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard let processID = Int32(entry) else { return nil }
            let descriptors = "/proc/\(entry)/fd"
            let links = (try? fileManager.contentsOfDirectory(atPath: descriptors)) ?? []
            let holdsFile = links.contains { link in
                FileIdentity(path: "\(descriptors)/\(link)").map(files.contains) ?? false
            }
            return holdsFile ? processID : nil
        }
    }

    /// Returns a process other than this one that holds a lock on the dead-man switch byte of
    /// the `-shm` file. POSIX locks of this process never conflict with its own probe, so its own
    /// connection does not count.
    static func processLockingSharedMemory(of databasePath: String) -> Int32? {
        let descriptor = open(databasePath + "-shm", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }

        var probe = flock()
        probe.l_type = Int16(F_WRLCK)
        probe.l_whence = Int16(SEEK_SET)
        probe.l_start = 128
        probe.l_len = 1
        guard fcntl(descriptor, F_GETLK, &probe) == 0, probe.l_type != Int16(F_UNLCK), probe.l_pid > 0 else { return nil }
        return probe.l_pid
    }
}

/// A file's device and inode, which are the same for every path and mount that leads to the
/// file. A program replaced on disk keeps its old inode, so it differs from its replacement.
private struct FileIdentity: Hashable {
    var device: UInt64
    var inode: UInt64

    init?(path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
    }
}
