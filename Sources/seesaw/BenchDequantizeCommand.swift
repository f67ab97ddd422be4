import ArgumentParser
import Foundation
import SeesawTensor

/// `seesaw bench dequantize`: how fast each weight type turns into f32, through `Dequantize.row` (the kernels the
/// matmul uses) and through the plain Swift `Dequantize.referenceRow`, one row at a time into an L1-sized buffer as
/// the matmul tiles do.
struct BenchDequantizeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dequantize",
    abstract: "GB/s of f32 written per weight type, kernels vs the Swift reference, one thread.")

  @Option(help: "Elements per row (a multiple of 256).") var k = 4096
  @Option(help: "Rows of the weight (the source is reread from cache on every pass).") var rows = 64

  func validate() throws {
    guard k > 0, k % 256 == 0, rows > 0 else { throw ValidationError("--k must be a positive multiple of 256") }
  }

  func run() throws {
    let numElements = rows * k
    let numPasses = max(1, (1 << 23) / numElements)
    let dst = UnsafeMutablePointer<Float>.allocate(capacity: k)
    defer { dst.deallocate() }
    print("\(rows) rows x \(k) elements, 1 thread, GB/s of f32 written")
    print("type    Dequantize.row   referenceRow   speed-up")
    for dtype in DType.allCases where dtype != .f32 {
      let rowBytes = dtype.byteCount(elements: k)!
      let src = Self.randomWeight(dtype, numBytes: rows * rowBytes)
      typealias Convert = (DType, UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void
      func gigabytesPerSecond(_ convert: Convert) -> Double {
        let seconds = src.withUnsafeBytes { bytes in
          Roofline.time(repeats: 30) {
            for _ in 0..<numPasses {
              for r in 0..<rows { convert(dtype, bytes.baseAddress! + r * rowBytes, dst, k) }
            }
          }
        }
        return Double(numPasses * numElements * 4) / seconds / 1e9
      }
      let kernel = gigabytesPerSecond { Dequantize.row($0, from: $1, into: $2, count: $3) }
      let reference = gigabytesPerSecond { Dequantize.referenceRow($0, from: $1, into: $2, count: $3) }
      print(String(format: "%-6@ %10.2f %15.2f %10.1fx", dtype.description, kernel, reference, kernel / reference))
    }
  }

  /// Random bytes whose f16 / bf16 values and block scales are finite numbers of moderate size.
  static func randomWeight(_ dtype: DType, numBytes: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var bytes = (0..<numBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
    func store(_ bits: UInt16, at offset: Int) {
      bytes[offset] = UInt8(bits & 0xFF)
      bytes[offset + 1] = UInt8(bits >> 8)
    }
    let scaleOffsets: [Int]
    switch dtype {
    case .f32: return bytes
    case .f16, .bf16, .q8_0, .q4_0: scaleOffsets = [0]
    case .q4_1, .q4_K: scaleOffsets = [0, 2]
    case .q6_K: scaleOffsets = [208]
    }
    for block in stride(from: 0, to: numBytes, by: dtype.bytesPerBlock) {
      for offset in scaleOffsets {
        let value = Float.random(in: -1...1, using: &generator)
        store(dtype == .bf16 ? UInt16(value.bitPattern >> 16) : Float16(value).bitPattern, at: block + offset)
      }
    }
    return bytes
  }
}
