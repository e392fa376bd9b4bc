import Foundation

/// The name that `top -H`, `perf` and /proc show for a thread. Foundation's `Thread.name` does
/// not reach it on Linux, so without this every thread shows the name of the thread that
/// started it.
public enum KernelThreadName {
    /// Starts a thread that runs `body`, named `name` both in Foundation and in the kernel.
    public static func startThread(named name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            set(name)
            body()
        }
        thread.name = name
        thread.start()
    }

    /// Names the calling thread. The kernel keeps at most 15 bytes, and a failure only leaves
    /// the old name. Swift cannot call the variadic prctl, so the name goes through
    /// /proc/thread-self/comm.
    private static func set(_ name: String) {
        let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }

        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }
}
