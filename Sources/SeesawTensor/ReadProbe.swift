import CSeesawKernels
import Dispatch

/// The memory's read bandwidth sampled between the steps of a run, on the kernels' own threads.
///
/// A roof measured before and after a run can land in another phase of a shared host than the run itself: on the
/// 2-vCPU Zen 5 host the read probe gave 32-70 GB/s from one minute to the next, so batch-1 decode read 52-79% of
/// "the" roof in one run and matched the probe when both were timed in the same seconds. A bench takes a sample
/// after some of its steps (each a pass over 64 MiB, twice the largest L3 here, so that it comes from memory: the
/// step between two passes reads other data) and holds the steps' bytes against the samples' mean.
///
/// It reads the first `megabytes` of the roofline's buffer, in huge pages as the weight copies (`Roofline.readBuffer`).
public final class ReadProbe {
  private let data: UnsafeMutablePointer<Float>
  private let count: Int
  /// GB/s of each pass.
  public private(set) var samples: [Double] = []
  /// Seconds spent in passes (a bench leaves them out of its run time).
  public private(set) var seconds = 0.0

  /// A probe over `megabytes` MiB, at most 256.
  public init(megabytes: Int = 64) {
    precondition(megabytes > 0 && megabytes << 20 <= Roofline.readBuffer.capacity, "a probe reads 1-256 MiB")
    count = megabytes << 18  // floats
    data = Roofline.readBuffer.base.assumingMemoryBound(to: Float.self)
  }

  /// The mean of the samples, nil before the first.
  public var meanGBps: Double? { samples.isEmpty ? nil : samples.reduce(0, +) / Double(samples.count) }

  /// One pass, split over the kernel threads as a product's rows are.
  public func sample() {
    let start = DispatchTime.now().uptimeNanoseconds
    ParallelFor.chunks(count, granularity: 4096) { range in
      if seesaw_read_probe(data + range.lowerBound, range.count) == -1 { print("") }  // keeps the sum alive
    }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    seconds += elapsed
    samples.append(Double(count * 4) / elapsed / 1e9)
  }
}
