import ArgumentParser
import Foundation
import SeesawTensor

/// `seesaw bench roofline`: this machine's peaks, the denominators of every bench percentage.
struct BenchRooflineCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "roofline",
    abstract: """
      Peak f32 FMA, BF16 dot (vdpbf16ps), int8 dot (VNNI, else AVX2 vpmaddubsw) and AMX tile throughput and read \
      bandwidth, 1 and all threads.
      """)

  func run() throws {
    var roof = Roofline.measure()
    roof.measureDotProducts()
    func figure(_ value: Double?, _ unit: String) -> String {
      value.map { String(format: "%8.1f %@", $0, unit) } ?? "   (not supported by this CPU)"
    }
    print("threads: \(roof.numThreads)")
    print("                       1 thread            all threads")
    print("f32 FMA            \(figure(roof.fmaGFLOPS1, "GFLOP/s"))   \(figure(roof.fmaGFLOPS, "GFLOP/s"))")
    print("BF16 dot           \(figure(roof.bf16GFLOPS1, "GFLOP/s"))   \(figure(roof.bf16GFLOPS, "GFLOP/s"))")
    print("int8 dot           \(figure(roof.int8GOPS1, "GOP/s  "))   \(figure(roof.int8GOPS, "GOP/s  "))")
    print("AMX BF16 tiles     \(figure(roof.amxBF16GFLOPS1, "GFLOP/s"))   \(figure(roof.amxBF16GFLOPS, "GFLOP/s"))")
    print("AMX int8 tiles     \(figure(roof.amxInt8GOPS1, "GOP/s  "))   \(figure(roof.amxInt8GOPS, "GOP/s  "))")
    print("memory read        \(figure(roof.readGBps1, "GB/s   "))   \(figure(roof.readGBps, "GB/s   "))")
  }
}
