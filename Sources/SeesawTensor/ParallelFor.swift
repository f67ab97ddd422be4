import Dispatch
import Foundation

/// Splits work over the machine's cores with a persistent thread pool (workers spin briefly, then sleep).
public enum ParallelFor {
  /// Threads that run kernels: `setNumThreads`, else $SEESAW_NUM_THREADS, else the active processor count.
  public static var numThreads: Int { pool.numThreads }

  nonisolated(unsafe) static var pool = ThreadPool(numThreads: defaultNumThreads)

  static var defaultNumThreads: Int {
    if let text = ProcessInfo.processInfo.environment["SEESAW_NUM_THREADS"], let n = Int(text), n > 0 { return n }
    return ProcessInfo.processInfo.activeProcessorCount
  }

  /// Resizes the pool (`--threads`). Call before kernels run: a pool replaced mid-job would lose its workers.
  public static func setNumThreads(_ count: Int) {
    precondition(count > 0, "thread count \(count)")
    if count != pool.numThreads { pool = ThreadPool(numThreads: count) }
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
}
