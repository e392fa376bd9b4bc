import Foundation

/// Thrown by `awaitResult(of:before:)` when the deadline passes first.
struct TimeLimitExceeded: Error {}

/// Runs `operation` in a new task and returns its result, or throws `TimeLimitExceeded` once
/// `deadline` passes, whichever comes first.
///
/// This is for work that cannot be cancelled, such as a `getaddrinfo` call on a blocking
/// thread: after the deadline the caller goes on, and the operation runs to its end unobserved.
func awaitResult<Value: Sendable>(
    of operation: @escaping @Sendable () async throws -> Value, before deadline: ContinuousClock.Instant
) async throws -> Value {
    guard ContinuousClock.now < deadline else { throw TimeLimitExceeded() }

    return try await withCheckedThrowingContinuation { continuation in
        let outcome = FirstOutcome(continuation)

        let timer = Task {
            try await Task.sleep(until: deadline, clock: .continuous)
            outcome.deliver(.failure(TimeLimitExceeded()))
        }
        Task {
            let result: Result<Value, any Error>
            do {
                result = .success(try await operation())
            } catch {
                result = .failure(error)
            }
            timer.cancel()
            outcome.deliver(result)
        }
    }
}

/// A continuation that the first of several racing tasks resumes; later results are dropped.
private final class FirstOutcome<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Value, any Error>?

    init(_ continuation: CheckedContinuation<Value, any Error>) {
        self.continuation = continuation
    }

    func deliver(_ result: Result<Value, any Error>) {
        let continuation = lock.withLock {
            let waiting = self.continuation
            self.continuation = nil
            return waiting
        }
        continuation?.resume(with: result)
    }
}
