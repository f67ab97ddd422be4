import Foundation
import Testing

@testable import SeesawTensor

@Suite("ParallelFor")
struct ParallelForTests {
  /// Runs `split` over 0..<count and returns how often each index was visited.
  static func visits(_ count: Int, _ split: (Int, (Range<Int>) -> Void) -> Void) -> [Int] {
    let lock = NSLock()
    var hits = [Int](repeating: 0, count: count)
    split(count) { range in
      lock.lock()
      for i in range { hits[i] += 1 }
      lock.unlock()
    }
    return hits
  }

  @Test("static and dynamic splits visit every index exactly once, for ragged counts and granularities")
  func everyIndexOnce() {
    for count in [0, 1, 7, 16, 17, 1000] {
      for granularity in [1, 8, 16] {
        let a = Self.visits(count) { n, body in ParallelFor.chunks(n, granularity: granularity, body) }
        let b = Self.visits(count) { n, body in ParallelFor.dynamic(n, granularity: granularity, body) }
        #expect(a.allSatisfy { $0 == 1 } && b.allSatisfy { $0 == 1 }, "count \(count) granularity \(granularity)")
      }
    }
  }

  @Test("the thread count can change after the pool has run jobs, and jobs keep running on the new pool")
  func resizeAfterUse() {
    let before = ParallelFor.numThreads
    defer { ParallelFor.setNumThreads(before) }
    for threads in [1, 3, before] {
      ParallelFor.setNumThreads(threads)
      #expect(ParallelFor.numThreads == threads)
      let hits = Self.visits(100) { n, body in ParallelFor.dynamic(n, body) }
      #expect(hits.allSatisfy { $0 == 1 }, "\(threads) threads")
    }
  }

  @Test("a dynamic split walks each thread's stretch in order, and a thread done early takes a slow one's last pieces")
  func stealsFromTheFarEnd() {
    let pool = ThreadPool(numThreads: 2)
    let caller = pthread_self()
    let lock = NSLock()
    var ranBy = [Bool?](repeating: nil, count: 8)  // piece -> run by the caller
    var order: [Int] = []
    // 8 pieces of one unit: stretches 0..<4 (chunk 0, the caller's) and 4..<8; the caller is slow on its own.
    ParallelFor.dynamic(8, granularity: 1, perThread: 4, on: pool) { range in
      let byCaller = pthread_equal(pthread_self(), caller) != 0
      if byCaller && range.lowerBound < 4 { usleep(5_000) }
      lock.lock()
      ranBy[range.lowerBound] = byCaller
      order.append(range.lowerBound)
      lock.unlock()
    }
    #expect(ranBy.allSatisfy { $0 != nil } && order.count == 8, "every piece once: \(order)")
    #expect(ranBy[3] == false, "the worker took the caller's last piece: \(order)")
    let workers = order.filter { ranBy[$0] == false }
    #expect(Array(workers.prefix(4)) == [4, 5, 6, 7], "its own stretch first, in order: \(order)")
  }
}
