import Foundation
import Synchronization

/// Worker threads for data-parallel kernels. The caller runs chunk 0 and the workers the others. Between jobs a
/// worker spins briefly (a forward pass issues kernels back to back, tens of microseconds apart, and a futex
/// wake-up costs as much as a small kernel), then sleeps on a condition variable: an idle engine uses no CPU.
/// One job at a time: a call made while another runs (from another thread, or from inside a job) runs its chunks
/// inline instead of waiting, so the pool can never deadlock.
final class ThreadPool: @unchecked Sendable {
  let numThreads: Int
  private let generation = Atomic<Int>(0)
  private let remaining = Atomic<Int>(0)
  private var job: ((Int) -> Void)?
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
  private let callers = NSLock()
  /// Spin iterations before a worker sleeps (about 50-100 µs).
  private let spinLimit = 100_000

  init(numThreads: Int) {
    self.numThreads = max(1, numThreads)
    pthread_mutex_init(mutex, nil)
    pthread_cond_init(wake, nil)
    for worker in 1..<self.numThreads {
      let thread = Thread { [unowned self] in self.work(worker) }
      thread.name = "seesaw-worker-\(worker)"
      thread.start()
    }
  }

  /// Runs `body(0..<numThreads)`, each index once, and returns when all are done.
  func run(_ body: (Int) -> Void) {
    guard callers.try() else {
      for c in 0..<numThreads { body(c) }
      return
    }
    defer { callers.unlock() }
    withoutActuallyEscaping(body) { body in
      job = body
      remaining.store(numThreads - 1, ordering: .releasing)
      pthread_mutex_lock(mutex)
      generation.add(1, ordering: .releasing)
      pthread_cond_broadcast(wake)
      pthread_mutex_unlock(mutex)
      body(0)
      // Chunks are even, so the others finish about now; yield now and then in case a worker was descheduled.
      var spins = 0
      while remaining.load(ordering: .acquiring) > 0 {
        spins += 1
        if spins % 4096 == 0 { sched_yield() }
      }
      job = nil
    }
  }

  private func work(_ index: Int) {
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
      job!(index)
      remaining.subtract(1, ordering: .releasing)
    }
  }
}
