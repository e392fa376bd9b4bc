import BlockingThreads
import Foundation
import Testing

@Suite("BlockingThreadPool")
struct BlockingThreadPoolTests {
    @Test("thread names reach the kernel")
    func kernelThreadNames() async throws {
        let pool = BlockingThreadPool(name: "probe-pool-with-a-long-name", threadCount: 1)
        defer { pool.shutDown() }

        let name = try await pool.run { try String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8) }

        #expect(name == "probe-pool-with\n")
    }
}
