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

  /// Like `chunks`, but cut into `perThread` chunks per thread that threads claim in turn: a thread that is slowed
  /// (another process on its core, a descheduled vCPU) takes fewer chunks instead of making the others wait.
  public static func dynamic(
    _ count: Int, granularity: Int = 1, perThread: Int = 4, _ body: (Range<Int>) -> Void
  ) {
    let units = (count + granularity - 1) / granularity
    let numChunks = min(units, numThreads * perThread)
    if numThreads == 1 || numChunks <= 1 {
      body(0..<count)
      return
    }
    pool.run(chunks: numChunks) { c in
      let lo = min(count, (units * c / numChunks) * granularity)
      let hi = min(count, (units * (c + 1) / numChunks) * granularity)
      if lo < hi { body(lo..<hi) }
    }
  }
}
