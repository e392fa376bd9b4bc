import Foundation

/// The processes that have a database file open, other than this process and others running
/// the same program file. Converting a file to a schema that older versions cannot use is safe
/// only when none of them runs. SQLite gives a process that already has the file open the new
/// schema without an error, so an older worker would go on sending mail whose outcomes it
/// cannot record. Processes of this version that start at the same time wait for the
/// conversion's write lock instead.
///
/// Two sources find them. The descriptors under /proc name every process of this user, matched
/// by device and inode, so a path through a symbolic link or a bind mount counts too. A process
/// of another user hides its descriptors, but every SQLite connection in WAL mode holds a shared
/// lock on byte 128 of the `-shm` file (SQLite's "dead man switch"). `F_GETLK` reports the
/// process behind such a lock, whichever user runs it.
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

    /// Returns a process other than this one that holds a lock on the dead man switch byte of
    /// the `-shm` file, as every open SQLite connection in WAL mode does. The locks of this
    /// process never conflict with its own probe, so its own connection does not count.
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

/// A file's device and inode: the same for every path and mount that leads to it, and for a
/// program replaced on disk, different from its replacement.
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
