import ArgumentParser
import Foundation
import SeesawTensor

/// `seesaw bench matmul`: the two linear-layer paths (OpenBLAS sgemm, Swift SIMD) side by side per batch size,
/// the measurement behind the default `Matmul.Kernel`.
struct BenchMatmulCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "matmul", abstract: "GFLOP/s of y = x·wᵀ through OpenBLAS and through the SIMD kernel, per M.")

  @Option(help: "Rows of x (batch sizes), comma-separated.") var m = "1,2,4,8,16,32,64,128,512"
  @Option(help: "Output features (rows of w).") var n = 1536
  @Option(help: "Input features.") var k = 576

  func run() throws {
    let ms = m.split(separator: ",").compactMap { Int($0) }
    let w = UnsafeMutablePointer<Float>.allocate(capacity: n * k)
    w.initialize(repeating: 0.01, count: n * k)
    print("n \(n) k \(k), \(ParallelFor.numThreads) threads")
    for rows in ms {
      let x = UnsafeMutablePointer<Float>.allocate(capacity: rows * k)
      let y = UnsafeMutablePointer<Float>.allocate(capacity: rows * n)
      x.initialize(repeating: 0.5, count: rows * k)
      let flops = 2 * Double(rows * n * k)
      let blas = Roofline.time(repeats: 5) { Matmul.blas(x, w, y, m: rows, n: n, k: k) }
      let simd = Roofline.time(repeats: 5) { Matmul.simd(x, w, y, m: rows, n: n, k: k) }
      print(String(format: "m %4d: BLAS %6.1f GFLOP/s, SIMD %6.1f GFLOP/s", rows, flops / blas / 1e9, flops / simd / 1e9))
      x.deallocate()
      y.deallocate()
    }
    w.deallocate()
  }
}
