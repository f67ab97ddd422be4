import ArgumentParser
import Foundation
import SeesawTensor

/// `seesaw bench matmul`: y = x·wᵀ per batch size, weight format and kernel path (plus OpenBLAS sgemm for f32), the
/// measurement behind `Matmul.path(m:dtype:)`; figures are shown against the machine's roofline.
struct BenchMatmulCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "matmul", abstract: "GFLOP/s and weight GB/s of y = x·wᵀ per M, weight format and kernel path.")

  @Option(help: "Rows of x (batch sizes), comma-separated.") var m = "1,2,4,8,16,32,64,128,512"
  @Option(help: "Output features (rows of w).") var n = 1536
  @Option(help: "Input features.") var k = 576
  @Option(help: "Weight formats, comma-separated (f32, f16, bf16, q8_0, q4_0, q4_1, q4_K, q6_K).")
  var dtypes = "f32,q4_1"
  @Flag(help: "Also time OpenBLAS sgemm on f32 weights.") var blas = false
  @Flag(help: "Also time the opt-in bf16 and int8 precisions (each at its own path choice).") var reduced = false

  func run() throws {
    let ms = m.split(separator: ",").compactMap { Int($0) }
    let formats = try dtypes.split(separator: ",").map { name in
      guard let dtype = DType.allCases.first(where: { $0.description.lowercased() == name.lowercased() }) else {
        throw ValidationError("--dtypes: unknown format \(name)")
      }
      guard k % dtype.blockSize == 0 else {
        throw ValidationError(
          "--dtypes: \(dtype) stores rows in blocks of \(dtype.blockSize), --k \(k) is not a multiple")
      }
      return dtype
    }
    var roof = Roofline.measure()
    if reduced { roof.measureDotProducts() }  // the bf16 and int8 peaks
    print("n \(n) k \(k), \(ParallelFor.numThreads) threads; roofline: \(roof)")
    for dtype in formats {
      let w = WeightMatrix.random(dtype, rows: n, cols: k, seed: 1).streamed()  // in huge pages, as the engine's
      for rows in ms {
        let x = Tensor((0..<(rows * k)).map { Float($0 % 7) * 0.1 - 0.3 }, shape: [rows, k])
        let y = Tensor(zeros: [rows, n])
        let flops = 2 * Double(rows * n * k)
        var line = String(format: "%-5@ m %4d:", dtype.description, rows)
        // The paths that run here for this format (a forced path that does not would time its fallback); gemv to
        // 16 rows of x, digits to 64 (the rows where their thresholds fall on some CPU).
        for path in Matmul.Path.allCases
        where (path != .gemv || rows <= 16) && (path != .digits || rows <= 64) && Matmul.runsHere(path, dtype)
          && (path != .amx || (dtype == .bf16 && Matmul.amxAvailable))
        {
          let seconds = Roofline.time(repeats: 5, budget: 0.05) {
            Matmul.linear(x.data, w, y.data, m: rows, path: path)
          }
          line += String(
            format: " %@ %6.1f GFLOP/s %5.1f GB/s (%3.0f%%/%3.0f%%)", "\(path)", flops / seconds / 1e9,
            Double(w.byteCount) / seconds / 1e9, 100 * flops / seconds / 1e9 / roof.fmaGFLOPS,
            100 * Double(w.byteCount) / seconds / 1e9 / roof.readGBps)
        }
        for precision in [ComputePrecision.bf16, .int8] where reduced && precision.isAvailable {
          let seconds = Roofline.time(repeats: 5, budget: 0.05) {
            Matmul.linear(x.data, w, y.data, m: rows, precision: precision)
          }
          let peak = precision == .int8 ? roof.int8GOPS : roof.bf16GFLOPS
          line += String(
            format: " %@ %6.1f GFLOP/s %5.1f GB/s (%3.0f%%/%3.0f%%)", precision.rawValue, flops / seconds / 1e9,
            Double(w.byteCount) / seconds / 1e9, 100 * flops / seconds / 1e9 / (peak ?? roof.fmaGFLOPS),
            100 * Double(w.byteCount) / seconds / 1e9 / roof.readGBps)
        }
        if blas && dtype == .f32 {
          let seconds = Roofline.time(repeats: 5, budget: 0.05) {
            Matmul.linear(x.data, w, y.data, m: rows, kernel: .blas)
          }
          line += String(format: " blas %6.1f GFLOP/s", flops / seconds / 1e9)
        }
        print(line)
      }
    }
  }
}
