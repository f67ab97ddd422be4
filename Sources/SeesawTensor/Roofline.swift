import CSeesawKernels
import Dispatch
import Foundation
import Synchronization

/// This machine's roof, measured: peak f32 FMA throughput and memory read bandwidth, with one and all threads.
/// Benchmarks print their figures as a percentage of these.
public struct Roofline: Sendable, CustomStringConvertible {
  public var numThreads: Int
  /// f32 FMA GFLOP/s (2 FLOPs per lane per FMA) on one thread and on all.
  public var fmaGFLOPS1: Double
  public var fmaGFLOPS: Double
  /// Read bandwidth in GB/s (sum of a 256 MiB array) on one thread and on all.
  public var readGBps1: Double
  public var readGBps: Double
  /// BF16 dot-product GFLOP/s (vdpbf16ps) and int8 dot-product GOP/s (VNNI vpdpbusd), one thread and all; nil where
  /// the CPU lacks the instruction. Measured by `measureDotProducts()` (not part of `measure()`).
  public var bf16GFLOPS1: Double? = nil
  public var bf16GFLOPS: Double? = nil
  public var int8GOPS1: Double? = nil
  public var int8GOPS: Double? = nil
  /// AMX tile products: TDPBF16PS GFLOP/s and TDPBUSD GOP/s, one thread and all; nil without AMX. Also measured by
  /// `measureDotProducts()`.
  public var amxBF16GFLOPS1: Double? = nil
  public var amxBF16GFLOPS: Double? = nil
  public var amxInt8GOPS1: Double? = nil
  public var amxInt8GOPS: Double? = nil

  public var description: String {
    String(
      format: "f32 FMA %.1f GFLOP/s (1 thread %.1f), memory read %.1f GB/s (1 thread %.1f), %d threads",
      fmaGFLOPS, fmaGFLOPS1, readGBps, readGBps1, numThreads)
  }

  /// Runs the micro-benchmarks (about a second).
  public static func measure(numThreads: Int = ParallelFor.numThreads) -> Roofline {
    Roofline(
      numThreads: numThreads,
      fmaGFLOPS1: fmaPeak(threads: 1), fmaGFLOPS: fmaPeak(threads: numThreads),
      readGBps1: readBandwidth(threads: 1), readGBps: readBandwidth(threads: numThreads))
  }

  /// The higher of two measurements of each figure. A roof is a ceiling, and on a shared host one measurement can
  /// land in a busy moment: benchmarks measure before and after a run and divide by the higher.
  public func ceiling(with other: Roofline) -> Roofline {
    func higher(_ a: Double?, _ b: Double?) -> Double? { a.map { Swift.max($0, b ?? $0) } ?? b }
    var r = self
    r.fmaGFLOPS1 = Swift.max(fmaGFLOPS1, other.fmaGFLOPS1)
    r.fmaGFLOPS = Swift.max(fmaGFLOPS, other.fmaGFLOPS)
    r.readGBps1 = Swift.max(readGBps1, other.readGBps1)
    r.readGBps = Swift.max(readGBps, other.readGBps)
    r.bf16GFLOPS1 = higher(bf16GFLOPS1, other.bf16GFLOPS1)
    r.bf16GFLOPS = higher(bf16GFLOPS, other.bf16GFLOPS)
    r.int8GOPS1 = higher(int8GOPS1, other.int8GOPS1)
    r.int8GOPS = higher(int8GOPS, other.int8GOPS)
    r.amxBF16GFLOPS1 = higher(amxBF16GFLOPS1, other.amxBF16GFLOPS1)
    r.amxBF16GFLOPS = higher(amxBF16GFLOPS, other.amxBF16GFLOPS)
    r.amxInt8GOPS1 = higher(amxInt8GOPS1, other.amxInt8GOPS1)
    r.amxInt8GOPS = higher(amxInt8GOPS, other.amxInt8GOPS)
    return r
  }

  /// Adds the BF16 and int8 dot-product peaks, and AMX's where the CPU has it.
  public mutating func measureDotProducts() {
    bf16GFLOPS1 = Self.probePeak(threads: 1, seesaw_bf16_dot_probe)
    bf16GFLOPS = Self.probePeak(threads: numThreads, seesaw_bf16_dot_probe)
    int8GOPS1 = Self.probePeak(threads: 1, seesaw_int8_dot_probe)
    int8GOPS = Self.probePeak(threads: numThreads, seesaw_int8_dot_probe)
    amxBF16GFLOPS1 = Self.probePeak(threads: 1, seesaw_amx_bf16_probe)
    amxBF16GFLOPS = Self.probePeak(threads: numThreads, seesaw_amx_bf16_probe)
    amxInt8GOPS1 = Self.probePeak(threads: 1, seesaw_amx_int8_probe)
    amxInt8GOPS = Self.probePeak(threads: numThreads, seesaw_amx_int8_probe)
  }

  /// Giga-operations per second of a C probe on `threads` threads, or nil when it is unsupported.
  static func probePeak(threads: Int, _ probe: @convention(c) (Int) -> Double) -> Double? {
    guard probe(1) >= 0 else { return nil }
    let iterations = 10_000_000
    var ops = 0.0
    let seconds = time {
      let lock = NSLock()
      ops = 0
      onThreads(threads) { _ in
        let n = probe(iterations)
        lock.lock()
        ops += n
        lock.unlock()
      }
    }
    return ops / seconds / 1e9
  }

  /// Seconds `body` takes, best of `repeats`, or of as many more as fit in `budget` seconds: a call of tens of
  /// microseconds (a small product on two threads) is timed hundreds of times, so that one quiet moment of this
  /// shared host is enough; five calls could all land on a descheduled vCPU (`bench matmul`'s 1536 x 576 Q4_1 gemv
  /// on two threads gave 10.7, 17.2 and 47.3 GFLOP/s in three runs in a row).
  public static func time(repeats: Int = 3, budget: Double = 0, _ body: () -> Void) -> Double {
    var best = Double.infinity
    let first = DispatchTime.now().uptimeNanoseconds
    var done = 0
    while done < repeats || Double(DispatchTime.now().uptimeNanoseconds - first) / 1e9 < budget {
      let start = DispatchTime.now().uptimeNanoseconds
      body()
      best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
      done += 1
    }
    return best
  }

  /// Runs `body(t)` for t in 0..<threads, each on its own thread (the caller runs 0), all released at once.
  ///
  /// A peak must come from all the threads running together: `DispatchQueue.concurrentPerform`, used before, may run
  /// the iterations one after another on the calling thread while its pool has no worker ready, and measured this
  /// 2-vCPU machine's f32 FMA peak on two threads as 117 GFLOP/s, its one-thread figure, in some runs and 230 in
  /// others; with threads of their own, three runs in a row read 225-233 (the host can still give the two vCPUs one
  /// core's time for a while: one later reading was 116). The kernels' thread pool has the same escape (the caller
  /// takes a late worker's chunk).
  static func onThreads(_ threads: Int, _ body: @escaping (Int) -> Void) {
    let started = Atomic<Int>(0)
    let finished = DispatchGroup()
    withExtendedLifetime(started) {
      for t in 1..<max(1, threads) {
        finished.enter()
        let thread = Thread {
          started.add(1, ordering: .relaxed)
          while started.load(ordering: .acquiring) < threads { /* until every thread is running */ }
          body(t)
          finished.leave()
        }
        thread.start()
      }
      started.add(1, ordering: .relaxed)
      while started.load(ordering: .acquiring) < threads {}
      body(0)
      finished.wait()
    }
  }

  /// Twelve independent FMA chains per thread keep both FMA ports busy through their latency: 16-lane chains with
  /// AVX-512, 8-lane ones in C without it (16-lane ones would be 24 register pairs for 16 registers).
  static func fmaPeak(threads: Int) -> Double {
    if seesaw_gemm_available() == 0, let peak = probePeak(threads: threads, seesaw_fma8_probe) { return peak }
    let iterations = 20_000_000
    let seconds = time {
      onThreads(threads) { t in
        var acc = (0..<12).map { SIMD16<Float>(repeating: Float($0 + t) * 1e-3) }
        let a = SIMD16<Float>(repeating: 0.999_999), b = SIMD16<Float>(repeating: 1e-7)
        var (a0, a1, a2, a3, a4, a5) = (acc[0], acc[1], acc[2], acc[3], acc[4], acc[5])
        var (a6, a7, a8, a9, a10, a11) = (acc[6], acc[7], acc[8], acc[9], acc[10], acc[11])
        for _ in 0..<(iterations / 12) {
          a0.addProduct(a, b); a1.addProduct(a, b); a2.addProduct(a, b); a3.addProduct(a, b)
          a4.addProduct(a, b); a5.addProduct(a, b); a6.addProduct(a, b); a7.addProduct(a, b)
          a8.addProduct(a, b); a9.addProduct(a, b); a10.addProduct(a, b); a11.addProduct(a, b)
        }
        acc = [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11]
        if acc.map({ $0.sum() }).reduce(0, +) == .infinity { print("") }  // keeps the loop alive
      }
    }
    return Double(threads * (iterations / 12) * 12 * 16 * 2) / seconds / 1e9
  }

  /// 256 MiB of ones in huge pages, as the weight copies lie (`HugePageArena`), that the read probes sum: made on first
  /// use and kept. Faulting fresh huge pages in can be slow (on the KVM host, 2 MiB blocks the guest had reported
  /// free to the host came back at about 0.5-1 GB/s), so a bench pays it once, not per probe.
  static let readBuffer: HugePageArena.Chunk = {
    let chunk = HugePageArena.Chunk(capacity: 256 << 20)
    chunk.base.initializeMemory(as: Float.self, repeating: 1, count: chunk.capacity / 4)
    return chunk
  }()

  /// Sums `readBuffer`, split over `threads` (`seesaw_read_probe`: the kernels' loads and prefetches).
  static func readBandwidth(threads: Int) -> Double {
    let count = readBuffer.capacity / 4  // floats
    let data = readBuffer.base.assumingMemoryBound(to: Float.self)
    let seconds = time {
      let chunk = count / threads
      onThreads(threads) { t in
        if seesaw_read_probe(data + t * chunk, chunk) == -1 { print("") }  // keeps the sum alive
      }
    }
    return Double(count * 4) / seconds / 1e9
  }
}
