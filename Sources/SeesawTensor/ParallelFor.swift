import Synchronization
import Dispatch
import Foundation

/// Splits work over the machine's cores with a persistent thread pool (workers spin briefly, then sleep).
public enum ParallelFor {
  /// Threads that run kernels: `setNumThreads`, else $SEESAW_NUM_THREADS, else the active processor count.
  public static var numThreads: Int { pool.numThreads }

  /// The pool, created on first use with `setNumThreads`' count or the default.
  static var pool: ThreadPool {
    poolLock.lock()
    defer { poolLock.unlock() }
    if let current { return current }
    let created = ThreadPool(numThreads: requested ?? defaultNumThreads)
    current = created
    return created
  }

  private static let poolLock = NSLock()
  nonisolated(unsafe) private static var current: ThreadPool?
  nonisolated(unsafe) private static var requested: Int?
  /// Pools replaced by `setNumThreads` after they started: kept alive, since their idle workers still reference them.
  nonisolated(unsafe) private static var retired: [ThreadPool] = []

  static var defaultNumThreads: Int {
    if let text = ProcessInfo.processInfo.environment["SEESAW_NUM_THREADS"], let n = Int(text), n > 0 { return n }
    return ProcessInfo.processInfo.activeProcessorCount
  }

  /// Sets the thread count (`--threads`); call it before kernels run. A pool already started is retired (its
  /// workers go to sleep) and a new one is made on next use.
  public static func setNumThreads(_ count: Int) {
    precondition(count > 0, "thread count \(count)")
    poolLock.lock()
    defer { poolLock.unlock() }
    requested = count
    if let started = current, started.numThreads != count {
      retired.append(started)
      current = nil
    }
  }

  /// Calls `body` on disjoint chunks that cover `0..<count`; chunk boundaries are multiples of `granularity`.
  /// Runs inline when the work is too small to split.
  public static func chunks(_ count: Int, granularity: Int = 1, _ body: (Range<Int>) -> Void) {
    let numChunks = min(numThreads, (count + granularity - 1) / granularity)
    if numChunks <= 1 {
      body(0..<count)
      return
    }
    let units = (count + granularity - 1) / granularity
    pool.run { c in
      guard c < numChunks else { return }
      let lo = min(count, (units * c / numChunks) * granularity)
      let hi = min(count, (units * (c + 1) / numChunks) * granularity)
      if lo < hi { body(lo..<hi) }
    }
  }

  /// Like `chunks`, but cut into `perThread` pieces per thread, and a thread that runs out of its own pieces takes
  /// the others' from their far end: a thread that is slowed (another process on its core, a descheduled vCPU)
  /// does fewer pieces instead of making the others wait. Each thread walks its own stretch in order, so a kernel
  /// that prefetches ahead of its rows reaches into its next piece: claiming pieces from one shared counter instead
  /// (each a new stretch for the prefetcher) made SmolLM2's batch-1 decode products 10-30% slower than one static
  /// stretch per thread (`bench forward`, three alternated runs: o_proj 35/33/25 -> 26/21/21 ms of 128 steps).
  public static func dynamic(
    _ count: Int, granularity: Int = 1, perThread: Int = 4, _ body: (Range<Int>) -> Void
  ) {
    dynamic(count, granularity: granularity, perThread: perThread, on: pool, body)
  }

  /// `dynamic` on a given pool (tests).
  static func dynamic(
    _ count: Int, granularity: Int, perThread: Int, on pool: ThreadPool, _ body: (Range<Int>) -> Void
  ) {
    let numThreads = pool.numThreads
    let units = (count + granularity - 1) / granularity
    let numPieces = min(units, numThreads * perThread)
    if numThreads == 1 || numPieces <= 1 {
      body(0..<count)
      return
    }
    // A local function, not a closure value: the job's closure captures it without a heap-allocated context.
    func piece(_ p: Int) -> Range<Int> {
      min(count, (units * p / numPieces) * granularity)..<min(count, (units * (p + 1) / numPieces) * granularity)
    }
    let owners = min(numThreads, numPieces)
    // Stretch r holds pieces r·P/owners ..< (r+1)·P/owners; the ones not yet taken are front ..< back, both packed
    // in one word (back in the high half) on a cache line of its own.
    let line = 64 / MemoryLayout<Atomic<Int>>.stride
    ScratchArena.with(Atomic<Int>.self, owners * line) { stretches in
      for r in 0..<owners {
        (stretches + r * line).initialize(to: Atomic(numPieces * r / owners | (numPieces * (r + 1) / owners) << 32))
      }
      defer { for r in 0..<owners { _ = (stretches + r * line).move() } }
      pool.run(chunks: owners) { r in
        while let p = take(stretches[r * line], fromBack: false) { body(piece(p)) }
        for other in 1..<owners {
          let victim = (r + other) % owners
          while let p = take(stretches[victim * line], fromBack: true) { body(piece(p)) }
        }
      }
    }
  }

  /// The first (or last) piece of a stretch nobody has taken, nil when none is left.
  @inline(__always) private static func take(_ stretch: borrowing Atomic<Int>, fromBack: Bool) -> Int? {
    var word = stretch.load(ordering: .relaxed)
    while true {
      let (front, back) = (word & 0xFFFF_FFFF, word >> 32)
      if front >= back { return nil }
      let (exchanged, original) = stretch.compareExchange(
        expected: word, desired: fromBack ? word - (1 << 32) : word + 1, ordering: .relaxed)
      if exchanged { return fromBack ? back - 1 : front }
      word = original
    }
  }
}
