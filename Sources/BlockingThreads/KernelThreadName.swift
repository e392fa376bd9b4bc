import Foundation

/// The name that `top -H`, `perf` and /proc show for a thread. Foundation's `Thread.name` does
/// not reach it on Linux, so without this every thread shows the name of the thread that
/// started it.
public enum KernelThreadName {
    /// Names the calling thread. The kernel keeps at most 15 bytes, and a failure only leaves
    /// the old name. Swift cannot call the variadic prctl, so the name goes through
    /// /proc/thread-self/comm.
    public static func set(_ name: String) {
        let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }

        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }
}
