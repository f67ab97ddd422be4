import Foundation
import SeesawTensor
import Testing

@testable import SeesawModel

/// `HFExport` in bf16: what it writes loads back as the bf16-rounded weights of the source.
@Suite("Hugging Face export")
struct HFExportTests {
  /// The bfloat16 value nearest to `x`, ties to the even one, worked out from the two neighbours (independently of
  /// `BFloat16`'s bit trick).
  static func nearestBFloat16(_ x: Float) -> Float {
    let below = Float(bitPattern: x.bitPattern & 0xFFFF_0000)
    let above = Float(bitPattern: (x.bitPattern & 0xFFFF_0000) + 0x1_0000)
    let (dBelow, dAbove) = (abs(Double(x) - Double(below)), abs(Double(x) - Double(above)))
    if dBelow != dAbove { return dBelow < dAbove ? below : above }
    return (below.bitPattern >> 16) & 1 == 0 ? below : above
  }

  @Test("f32 rounds to bfloat16 to nearest, ties to even")
  func rounding() {
    let ulp = Float(1.0 / 128)  // bfloat16's spacing in [1, 2)
    #expect(BFloat16.round(1 + ulp / 2) == 1)  // tie, 1 is even
    #expect(BFloat16.round(1 + 3 * ulp / 2) == 1 + 2 * ulp)  // tie, 1 + 2 ulp is even
    #expect(BFloat16.round(1 + ulp / 2 + ulp / 64) == 1 + ulp)
    #expect(BFloat16.round(-(1 + ulp / 4)) == -1)
    #expect(BFloat16.round(.infinity) == .infinity && BFloat16.round(.nan).isNaN)
    var rng = SystemRandomNumberGenerator()
    for _ in 0..<10_000 {
      let x = Float(bitPattern: UInt32.random(in: 0..<0x7F00_0000, using: &rng) | (rng.next() & 1 == 0 ? 0 : 0x8000_0000))
      #expect(BFloat16.round(x) == Self.nearestBFloat16(x), "\(x)")
    }
  }

  @Test(
    "a tiny model exported in bf16 loads back with every weight equal to the bf16-rounded original",
    arguments: ["tiny-llama-gqa-tied", "tiny-llama-gqa-tied.gguf", "tiny-qwen2-bias"])
  func bf16RoundTrip(fixture: String) throws {
    let source = try ModelFiles(path: Fixtures.path(fixture))
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    try HFExport.write(source, to: dir.path, dtype: .bf16)

    let exported = try ModelFiles(path: dir.path)
    #expect(exported.config == source.config)
    let config = try Data(contentsOf: dir.appendingPathComponent("config.json"))
    #expect((try JSONSerialization.jsonObject(with: config) as! [String: Any])["torch_dtype"] as? String == "bfloat16")
    for (name, shape) in HFExport.tensorShapes(source.config) {
      #expect(exported.weights.raw(name)?.dtype == .bf16, "\(name)")
      let original = try source.weights.load(name, shape: shape).toArray()
      let loaded = try exported.weights.load(name, shape: shape).toArray()
      #expect(loaded == original.map(Self.nearestBFloat16), "\(fixture): \(name)")
    }
  }
}
