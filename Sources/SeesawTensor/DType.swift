/// Element types of weights as they are stored in model files.
///
/// Quantized types are stored in blocks: `blockSize` consecutive elements of one row share `bytesPerBlock` bytes
/// (scales and packed integers), exactly as ggml lays them out. The raw values are GGML's `ggml_type` ids.
public enum DType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
  case f32 = 0
  case f16 = 1
  case q4_0 = 2
  case q4_1 = 3
  case q8_0 = 8
  case q4_K = 12
  case q6_K = 14
  case bf16 = 30

  /// Elements per block (1 for plain floating-point types).
  public var blockSize: Int {
    switch self {
    case .f32, .f16, .bf16: return 1
    case .q4_0, .q4_1, .q8_0: return 32
    case .q4_K, .q6_K: return 256
    }
  }

  /// Bytes per block of `blockSize` elements.
  public var bytesPerBlock: Int {
    switch self {
    case .f32: return 4
    case .f16, .bf16: return 2
    case .q4_0: return 2 + 16  // f16 d, 32 x 4-bit
    case .q4_1: return 2 + 2 + 16  // f16 d, f16 m, 32 x 4-bit
    case .q8_0: return 2 + 32  // f16 d, 32 x int8
    case .q4_K: return 2 + 2 + 12 + 128  // f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 256 x 4-bit
    case .q6_K: return 128 + 64 + 16 + 2  // ql, qh, int8 scales, f16 d
    }
  }

  public var isQuantized: Bool { blockSize > 1 }

  /// Bytes taken by `count` elements, or nil when `count` is not a whole number of blocks or overflows.
  public func byteCount(elements count: Int) -> Int? {
    guard count >= 0, count % blockSize == 0 else { return nil }
    let (bytes, overflow) = (count / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
    return overflow ? nil : bytes
  }

  /// The name llama.cpp and safetensors use.
  public var description: String {
    switch self {
    case .f32: return "F32"
    case .f16: return "F16"
    case .bf16: return "BF16"
    case .q4_0: return "Q4_0"
    case .q4_1: return "Q4_1"
    case .q8_0: return "Q8_0"
    case .q4_K: return "Q4_K"
    case .q6_K: return "Q6_K"
    }
  }

  /// Parses a safetensors dtype string ("F32", "F16", "BF16"); nil for anything else.
  public init?(safetensorsName name: String) {
    switch name {
    case "F32": self = .f32
    case "F16": self = .f16
    case "BF16": self = .bf16
    default: return nil
    }
  }
}
