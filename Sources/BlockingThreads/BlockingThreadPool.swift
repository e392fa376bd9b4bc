import Foundation

/// A fixed set of dedicated threads for work that blocks: SQLite calls, socket reads and
/// writes waited on with `poll`. Swift's cooperative pool has one thread per core, so a single
/// blocking call there stalls every task behind it. Work handed to this pool blocks only its
/// own thread.
///
/// With one thread the pool is a serial queue, which is how the SQLite store keeps its
/// connection on a single thread.
public final class BlockingThreadPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [@Sendable () -> Void] = []
    private var isShutDown = false
    private var runningThreads: Int

    /// Starts `threadCount` threads named `name-1`, `name-2`, ...
    public init(name: String, threadCount: Int) {
        precondition(threadCount > 0, "a BlockingThreadPool needs at least one thread")
        runningThreads = threadCount

        for index in 1...threadCount {
            KernelThreadName.startThread(named: "\(name)-\(index)") { [self] in self.runJobs() }
        }
    }

    /// Runs `work` on one of the pool's threads and returns its result to the calling task.
    public func run<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let submitted = submit {
                continuation.resume(with: Swift.Result { try work() })
            }
            if !submitted {
                continuation.resume(throwing: BlockingThreadPoolShutDownError())
            }
        }
    }

    /// Queues `job` for one of the pool's threads and returns at once: false, with the job
    /// dropped, after `shutDown()`. Unlike `run`, no task waits, so a job that ends by handing
    /// its result on does not wake a task just to pass it along.
    public func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !isShutDown else { return false }

        pending.append(job)
        condition.signal()
        return true
    }

    /// Lets the threads finish the jobs already submitted, then stops them.
    public func shutDown() {
        condition.lock()
        isShutDown = true
        condition.broadcast()
        condition.unlock()
    }

    private func runJobs() {
        // A write to a socket the peer has closed raises SIGPIPE in the writing thread, which
        // ends the process by default. OpenSSL writes without MSG_NOSIGNAL, so these threads
        // block the signal and such a write fails with EPIPE instead.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        while let job = nextJob() {
            job()
        }
    }

    private func nextJob() -> (@Sendable () -> Void)? {
        condition.lock()
        defer { condition.unlock() }

        while pending.isEmpty {
            if isShutDown {
                runningThreads -= 1
                return nil
            }
            condition.wait()
        }
        return pending.removeFirst()
    }
}

/// Thrown by `BlockingThreadPool.run` after `shutDown()`.
public struct BlockingThreadPoolShutDownError: Error, CustomStringConvertible {
    public init() {}

    public var description: String { "The blocking thread pool was shut down before the work could run." }
}
