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
}
