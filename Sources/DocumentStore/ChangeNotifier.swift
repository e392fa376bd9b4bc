import Foundation

/// A counter of writes with waiters, used by stores to implement `changeCount` and
/// `waitForChange`. A waiter passes the count it saw before looking for work, so a write that
/// lands while it looks is never missed.
public final class ChangeNotifier: @unchecked Sendable {
    private let lock = NSLock()
    private var count: UInt64 = 0
    private var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiterID: UInt64 = 0

    public init() {}

    public var changeCount: UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return count
    }

    /// Records a write and wakes every waiter.
    public func notify() {
        lock.lock()
        count &+= 1
        let woken = waiters
        waiters.removeAll()
        lock.unlock()

        for continuation in woken.values {
            continuation.resume()
        }
    }

    public func wait(after seen: UInt64, timeout: Duration) async {
        let waiterID = lock.withLock {
            defer { nextWaiterID &+= 1 }
            return nextWaiterID
        }

        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            guard count == seen else {
                lock.unlock()
                continuation.resume()
                return
            }
            waiters[waiterID] = continuation
            lock.unlock()

            Task { [self] in
                try? await Task.sleep(for: timeout)
                self.resumeWaiter(waiterID)
            }
        }
    }

    private func resumeWaiter(_ waiterID: UInt64) {
        lock.lock()
        let continuation = waiters.removeValue(forKey: waiterID)
        lock.unlock()
        continuation?.resume()
    }
}
