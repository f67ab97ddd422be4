import Foundation
import Testing

@testable import SeesawTensor

@Suite("Thread pool")
struct ThreadPoolTests {
  /// Runs `jobs` jobs on `pool` and returns, per job, how often each chunk ran and whether all ran on the caller.
  static func record(_ pool: ThreadPool, jobs: Int, slow: (Int, Int) -> Bool = { _, _ in false }) -> (
    counts: [[Int]], callerOnly: [Bool]
  ) {
    let lock = NSLock()
    var counts = [[Int]](repeating: [Int](repeating: 0, count: pool.numThreads), count: jobs)
    var callerOnly = [Bool](repeating: true, count: jobs)
    for j in 0..<jobs {
      let caller = pthread_self()
      pool.run { c in
        if slow(j, c) { usleep(200) }
        lock.lock()
        counts[j][c] += 1
        if pthread_equal(pthread_self(), caller) == 0 { callerOnly[j] = false }
        lock.unlock()
      }
    }
    return (counts, callerOnly)
  }

  @Test("a worker that never arrives leaves its chunks to the caller instead of making it wait")
  func missingWorkers() {
    let pool = ThreadPool(numThreads: 4, startedWorkers: 0)
    let (counts, callerOnly) = Self.record(pool, jobs: 3)
    #expect(counts.allSatisfy { $0 == [1, 1, 1, 1] })
    #expect(callerOnly.allSatisfy { $0 })
  }

  @Test("back-to-back jobs, some with slow chunks, run every chunk exactly once")
  func everyChunkOnce() {
    let pool = ThreadPool(numThreads: 3)
    let (counts, callerOnly) = Self.record(pool, jobs: 5000) { j, c in j % 97 == 0 && c == j % 3 }
    #expect(counts.allSatisfy { $0 == [1, 1, 1] })
    #expect(callerOnly.contains(false), "the workers took part")
  }

  @Test("a job of more chunks than threads runs each chunk exactly once, the workers taking some")
  func moreChunksThanThreads() {
    let pool = ThreadPool(numThreads: 2)
    let caller = pthread_self()
    let lock = NSLock()
    for chunks in [1, 2, 3, 64] {
      var counts = [Int](repeating: 0, count: chunks)
      var byWorkers = 0
      for _ in 0..<200 {
        pool.run(chunks: chunks) { c in
          if chunks > 2 { usleep(20) }
          lock.lock()
          counts[c] += 1
          if pthread_equal(pthread_self(), caller) == 0 { byWorkers += 1 }
          lock.unlock()
        }
      }
      #expect(counts.allSatisfy { $0 == 200 }, "\(chunks) chunks")
      if chunks > 2 { #expect(byWorkers > 0, "\(chunks) chunks") }
    }
  }
}
