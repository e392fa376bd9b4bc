import Foundation

/// The processes that have a database file or its WAL files open, found through /proc, other
/// than this process and others running the same program file. Converting a file to a schema
/// that older versions cannot use is safe only when none of them runs. SQLite gives a process
/// that already has the file open the new schema without an error, so an older worker would go
/// on sending mail whose outcomes it cannot record. Processes of this version that start at the
/// same time wait for the conversion's write lock instead. Processes of other users are not
/// visible without the right to read their /proc entries.
struct OtherProcessesWithFile {
    struct Holder: CustomStringConvertible {
        var processID: Int32
        var command: String

        var description: String { "process \(processID) (\(command))" }
    }

    let holders: [Holder]

    init(databasePath: String) {
        let database = URL(fileURLWithPath: databasePath).resolvingSymlinksInPath().path
        let paths: Set<String> = [database, database + "-wal", database + "-shm"]
        let ownID = getpid()
        let ownProgram = Self.programFile(of: "self")
        let fileManager = FileManager.default

        var holders: [Holder] = []
        for entry in (try? fileManager.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let processID = Int32(entry), processID != ownID else { continue }

            let descriptors = "/proc/\(entry)/fd"
            let links = (try? fileManager.contentsOfDirectory(atPath: descriptors)) ?? []
            let holdsFile = links.contains { link in
                (try? fileManager.destinationOfSymbolicLink(atPath: "\(descriptors)/\(link)")).map(paths.contains) ?? false
            }
            if holdsFile, ownProgram == nil || Self.programFile(of: entry) != ownProgram {
                let command = (try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8)) ?? "unknown\n"
                holders.append(Holder(processID: processID, command: String(command.dropLast())))
            }
        }
        self.holders = holders
    }

    /// Returns the device and inode of the program a process runs. An older version replaced on disk
    /// keeps its old inode, so it does not match the new program even under the same path.
    private static func programFile(of process: String) -> [UInt64]? {
        var status = stat()
        guard stat("/proc/\(process)/exe", &status) == 0 else { return nil }
        return [UInt64(status.st_dev), UInt64(status.st_ino)]
    }
}
