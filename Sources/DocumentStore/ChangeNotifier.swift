import Foundation

/// A counter of writes with waiters, used by stores to implement `changeCount` and
/// `waitForChange`. A waiter passes the count it saw before looking for work, so a write that
/// lands while it looks is never missed.
public final class ChangeNotifier: @unchecked Sendable {
    private let lock = NSLock()
    private var count: UInt64 = 0
    private var nextWaiterID: UInt64 = 0
    /// Waiters between the start and the end of `wait`.
    private var activeWaiters: Set<UInt64> = []
    /// Suspended waiters.
    private var continuations: [UInt64: CheckedContinuation<Void, Never>] = [:]
    /// Waiters whose timeout or cancellation came before they suspended.
    private var releasedEarly: Set<UInt64> = []

    public init() {}

    public var changeCount: UInt64 {
        lock.withLock { count }
    }

    /// Records a write and wakes every waiter.
    public func notify() {
        let woken = lock.withLock {
            count &+= 1
            defer { continuations.removeAll() }
            return continuations
        }
        for continuation in woken.values {
            continuation.resume()
        }
    }

    /// Returns once `changeCount` differs from `seen`, after `timeout`, or when the task is
    /// cancelled.
    public func wait(after seen: UInt64, timeout: Duration) async {
        let waiterID = lock.withLock {
            defer { nextWaiterID &+= 1 }
            activeWaiters.insert(nextWaiterID)
            return nextWaiterID
        }

        let timer = Task { [self] in
            do {
                try await Task.sleep(for: timeout)
            } catch {
                return
            }
            release(waiterID)
        }

        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                lock.lock()
                guard count == seen, !releasedEarly.contains(waiterID) else {
                    lock.unlock()
                    continuation.resume()
                    return
                }
                continuations[waiterID] = continuation
                lock.unlock()
            }
        } onCancel: {
            release(waiterID)
        }

        timer.cancel()
        lock.withLock {
            activeWaiters.remove(waiterID)
            releasedEarly.remove(waiterID)
            continuations[waiterID] = nil
        }
    }

    /// Wakes one waiter, or marks it so that it does not suspend when it has not yet.
    private func release(_ waiterID: UInt64) {
        lock.lock()
        guard activeWaiters.contains(waiterID) else {
            lock.unlock()
            return
        }
        guard let continuation = continuations.removeValue(forKey: waiterID) else {
            releasedEarly.insert(waiterID)
            lock.unlock()
            return
        }
        lock.unlock()
        continuation.resume()
    }
}
