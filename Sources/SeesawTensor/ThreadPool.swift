import Foundation
import Synchronization

/// Worker threads for data-parallel kernels. The caller runs chunk 0, and every thread then claims the chunks nobody
/// has taken: a worker that is late (asleep, or its vCPU descheduled by the host) leaves its chunk to the caller
/// instead of making it wait, and the caller waits only for workers already inside the job. Between jobs a worker
/// spins briefly (a forward pass issues kernels back to back, tens of microseconds apart, and a futex wake-up costs
/// as much as a small kernel), then sleeps on a condition variable: an idle engine uses no CPU. One job at a time: a
/// call made while another runs (from another thread, or from inside a job) runs its chunks inline instead of
/// waiting, so the pool can never deadlock.
final class ThreadPool: @unchecked Sendable {
  let numThreads: Int
  private let generation = Atomic<Int>(0)
  /// The next chunk of the current job nobody has claimed.
  private let nextChunk = Atomic<Int>(0)
  /// Workers inside the current job, plus `closed` once the caller has run out of chunks: no worker enters then.
  private let inside = Atomic<Int>(0)
  private static let closed = 1 << 40
  private var job: ((Int) -> Void)?
  private var numChunks = 0
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
  private let callers = NSLock()
  /// Spin iterations before a worker sleeps (about 50-100 µs).
  private let spinLimit = 100_000

  /// `startedWorkers` (tests only) starts fewer worker threads than `numThreads - 1`: their chunks fall to the caller.
  init(numThreads: Int, startedWorkers: Int? = nil) {
    self.numThreads = max(1, numThreads)
    pthread_mutex_init(mutex, nil)
    pthread_cond_init(wake, nil)
    for worker in 1..<(1 + min(self.numThreads - 1, startedWorkers ?? self.numThreads)) {
      let thread = Thread { [unowned self] in self.work() }
      thread.name = "seesaw-worker-\(worker)"
      thread.start()
    }
  }

  /// Runs `body(0..<chunks)` (one chunk per thread unless given), each index once, and returns when all are done.
  /// The caller runs chunk 0 and every thread then claims the next in turn, so with more chunks than threads a
  /// thread that is slowed takes fewer of them.
  func run(chunks: Int? = nil, _ body: (Int) -> Void) {
    let count = chunks ?? numThreads
    guard callers.try() else {
      for c in 0..<count { body(c) }
      return
    }
    defer { callers.unlock() }
    withoutActuallyEscaping(body) { body in
      job = body
      numChunks = count
      nextChunk.store(1, ordering: .relaxed)
      inside.store(0, ordering: .releasing)  // open: publishes `job` and `nextChunk` to the workers that enter
      pthread_mutex_lock(mutex)
      generation.add(1, ordering: .releasing)
      pthread_cond_broadcast(wake)
      pthread_mutex_unlock(mutex)
      body(0)
      while let c = claim() { body(c) }
      // Close the job, then wait for the workers inside it (they are running their last chunks).
      inside.bitwiseOr(Self.closed, ordering: .acquiringAndReleasing)
      var spins = 0
      while inside.load(ordering: .acquiring) != Self.closed {
        spins += 1
        if spins % 4096 == 0 { sched_yield() }
      }
      job = nil
    }
  }

  /// The next chunk of the current job nobody has taken, nil when all are taken.
  private func claim() -> Int? {
    let c = nextChunk.add(1, ordering: .relaxed).oldValue
    return c < numChunks ? c : nil
  }

  /// Counts a worker into the current job unless the caller has closed it.
  private func enter() -> Bool {
    var count = inside.load(ordering: .relaxed)
    while count & Self.closed == 0 {
      let (exchanged, original) = inside.compareExchange(
        expected: count, desired: count + 1, ordering: .acquiring)
      if exchanged { return true }
      count = original
    }
    return false
  }

  private func work() {
    var seen = 0
    while true {
      var spins = 0
      while generation.load(ordering: .acquiring) == seen && spins < spinLimit { spins += 1 }
      if generation.load(ordering: .acquiring) == seen {
        pthread_mutex_lock(mutex)
        while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(wake, mutex) }
        pthread_mutex_unlock(mutex)
      }
      seen = generation.load(ordering: .acquiring)
      // A worker that wakes late finds the job closed, or a newer job open: it runs whatever `job` is then.
      if enter() {
        while let c = claim() { job!(c) }
        inside.subtract(1, ordering: .releasing)
      }
    }
  }
}
