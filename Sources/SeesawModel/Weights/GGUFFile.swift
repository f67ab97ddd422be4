import Foundation
import SeesawTensor

/// A GGUF file (llama.cpp's format, versions 2 and 3): metadata key/values and tensor descriptors, with tensor data
/// memory-mapped.
///
///     magic "GGUF" | u32 version | u64 tensor count | u64 kv count
///     kv:     string key | u32 type | value             (strings are u64 length + UTF-8 bytes)
///     tensor: string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset
///     padding to `general.alignment` (default 32) | tensor data (offsets relative to here)
///
/// ne[0] is the innermost (contiguous) dimension, so a [rows, cols] matrix is stored as ne = [cols, rows].
/// Every count and offset is checked against the file size before it is used: bad bytes throw, never crash.
public final class GGUFFile: @unchecked Sendable {
  /// A metadata value.
  public indirect enum Value: Sendable, Equatable {
    case int(Int64)
    case uint(UInt64)
    case float(Double)
    case bool(Bool)
    case string(String)
    case array([Value])

    public var intValue: Int? {
      switch self {
      case .int(let v): return Int(exactly: v)
      case .uint(let v): return Int(exactly: v)
      case .float(let v): return Int(exactly: v)
      case .bool(let v): return v ? 1 : 0
      default: return nil
      }
    }

    public var doubleValue: Double? {
      switch self {
      case .int(let v): return Double(v)
      case .uint(let v): return Double(v)
      case .float(let v): return v
      default: return nil
      }
    }

    public var stringValue: String? {
      if case .string(let s) = self { return s }
      return nil
    }

    public var arrayValue: [Value]? {
      if case .array(let a) = self { return a }
      return nil
    }

    /// The value as plain Swift values (Int, Double, Bool, String, [Any]) for modules that do not know GGUF.
    public var plain: Any {
      switch self {
      case .int(let v): return Int(clamping: v)
      case .uint(let v): return Int(clamping: v)
      case .float(let v): return v
      case .bool(let v): return v
      case .string(let v): return v
      case .array(let v): return v.map(\.plain)
      }
    }
  }

  public let file: MappedFile
  public let version: UInt32
  public let metadata: [String: Value]
  /// Tensors by name, in file order in `tensorNames`.
  public let tensors: [String: RawTensor]
  public let tensorNames: [String]

  public var path: String { file.path }

  public convenience init(path: String) throws {
    try self.init(file: MappedFile(path: path))
  }

  public init(file: MappedFile) throws {
    self.file = file
    var r = Reader(file: file)
    let magic = try r.u32("magic")
    guard magic == 0x4655_4747 else {  // "GGUF" little-endian
      throw ModelFileError.invalidHeader(
        path: file.path, field: "magic", reason: String(format: "0x%08x is not GGUF", magic))
    }
    version = try r.u32("version")
    guard version == 2 || version == 3 else {
      throw ModelFileError.invalidHeader(path: file.path, field: "version", reason: "\(version) (supported: 2, 3)")
    }
    let numTensors = try r.count("tensor_count", minBytesEach: 24)
    let numKV = try r.count("metadata_kv_count", minBytesEach: 12)

    var metadata: [String: Value] = [:]
    for _ in 0..<numKV {
      let key = try r.string("metadata key")
      let type = try r.u32("type of '\(key)'")
      metadata[key] = try r.value(type: type, field: key)
    }
    self.metadata = metadata

    struct Info {
      var name: String
      var ne: [Int]
      var type: UInt32
      var offset: UInt64
    }
    var infos: [Info] = []
    for i in 0..<numTensors {
      let name = try r.string("name of tensor \(i)")
      let numDims = try r.u32("n_dims of '\(name)'")
      guard (1...4).contains(numDims) else {
        throw ModelFileError.invalidHeader(path: file.path, field: "\(name).n_dims", reason: "\(numDims) (1-4)")
      }
      var ne: [Int] = []
      for d in 0..<Int(numDims) {
        let v = try r.u64("ne[\(d)] of '\(name)'")
        guard v <= UInt64(Int32.max) else {
          throw ModelFileError.invalidHeader(path: file.path, field: "\(name).ne[\(d)]", reason: "\(v) is too large")
        }
        ne.append(Int(v))
      }
      let type = try r.u32("type of '\(name)'")
      let offset = try r.u64("offset of '\(name)'")
      infos.append(Info(name: name, ne: ne, type: type, offset: offset))
    }

    let alignment = metadata["general.alignment"]?.intValue ?? 32
    guard alignment > 0, alignment & (alignment - 1) == 0 else {
      throw ModelFileError.invalidHeader(
        path: file.path, field: "general.alignment", reason: "\(alignment) is not a power of two")
    }
    let dataStart = (r.offset + alignment - 1) / alignment * alignment

    var tensors: [String: RawTensor] = [:]
    var names: [String] = []
    for info in infos {
      guard let dtype = DType(rawValue: info.type) else {
        throw ModelFileError.unsupportedDType(path: file.path, tensor: info.name, dtype: GGUFFile.ggmlTypeName(info.type))
      }
      var count = 1
      for d in info.ne {
        let (c, overflow) = count.multipliedReportingOverflow(by: d)
        guard !overflow else {
          throw ModelFileError.invalidHeader(path: file.path, field: "\(info.name).ne", reason: "\(info.ne) overflows")
        }
        count = c
      }
      guard info.ne[0] % dtype.blockSize == 0, let byteCount = dtype.byteCount(elements: count) else {
        throw ModelFileError.invalidHeader(
          path: file.path, field: "\(info.name).ne",
          reason: "row length \(info.ne[0]) is not a multiple of the \(dtype) block size \(dtype.blockSize)")
      }
      guard info.offset <= UInt64(Int.max - dataStart), Int(info.offset) % alignment == 0 || version < 3 else {
        throw ModelFileError.invalidHeader(
          path: file.path, field: "\(info.name).offset", reason: "\(info.offset) is not a valid aligned offset")
      }
      let start = dataStart + Int(info.offset)
      try file.check(start, byteCount, "data of tensor '\(info.name)'")
      guard tensors[info.name] == nil else {
        throw ModelFileError.invalidHeader(path: file.path, field: info.name, reason: "duplicate tensor name")
      }
      tensors[info.name] = RawTensor(
        name: info.name, dtype: dtype, shape: info.ne.reversed(), bytes: file.base + start, file: file)
      names.append(info.name)
    }
    self.tensors = tensors
    tensorNames = names
  }

  /// Human-readable name of a ggml type id, for errors about types the engine does not read.
  static func ggmlTypeName(_ type: UInt32) -> String {
    let names: [UInt32: String] = [
      6: "Q5_0", 7: "Q5_1", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K", 13: "Q5_K", 15: "Q8_K", 16: "IQ2_XXS",
      17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8",
      25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M",
    ]
    return names[type] ?? "ggml type \(type)"
  }

  /// Bounds-checked little-endian cursor over the mapped header.
  struct Reader {
    let file: MappedFile
    var offset = 0

    mutating func bytes(_ n: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawPointer {
      try file.check(offset, n, what())
      defer { offset += n }
      return file.base + offset
    }

    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 {
      try bytes(4, what()).loadUnaligned(as: UInt32.self)
    }

    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 {
      try bytes(8, what()).loadUnaligned(as: UInt64.self)
    }

    /// A count whose items take at least `minBytesEach` bytes: larger than the rest of the file is a lie.
    mutating func count(_ field: String, minBytesEach: Int) throws -> Int {
      let n = try u64(field)
      guard n <= UInt64(max(0, file.size - offset) / minBytesEach) else {
        throw ModelFileError.invalidHeader(
          path: file.path, field: field, reason: "\(n) items cannot fit in the \(file.size)-byte file")
      }
      return Int(n)
    }

    mutating func string(_ what: @autoclosure () -> String) throws -> String {
      let description = what()
      let n = try u64("length of \(description)")
      guard n <= UInt64(file.size - offset) else {
        throw ModelFileError.truncated(
          path: file.path, what: description, offset: offset, needed: Int(clamping: n), fileSize: file.size)
      }
      let p = try bytes(Int(n), description)
      return String(decoding: UnsafeRawBufferPointer(start: p, count: Int(n)), as: UTF8.self)
    }

    mutating func value(type: UInt32, field: String, depth: Int = 0) throws -> Value {
      switch type {
      case 0: return .uint(UInt64(try bytes(1, field).load(as: UInt8.self)))
      case 1: return .int(Int64(try bytes(1, field).load(as: Int8.self)))
      case 2: return .uint(UInt64(try bytes(2, field).loadUnaligned(as: UInt16.self)))
      case 3: return .int(Int64(try bytes(2, field).loadUnaligned(as: Int16.self)))
      case 4: return .uint(UInt64(try u32(field)))
      case 5: return .int(Int64(Int32(bitPattern: try u32(field))))
      case 6: return .float(Double(Float(bitPattern: try u32(field))))
      case 7: return .bool(try bytes(1, field).load(as: UInt8.self) != 0)
      case 8: return .string(try string(field))
      case 9:
        guard depth < 4 else {
          throw ModelFileError.invalidHeader(path: file.path, field: field, reason: "arrays nested too deeply")
        }
        let itemType = try u32("array type of '\(field)'")
        let n = try count(field, minBytesEach: 1)
        var items: [Value] = []
        items.reserveCapacity(n)
        for _ in 0..<n { items.append(try value(type: itemType, field: field, depth: depth + 1)) }
        return .array(items)
      case 10: return .uint(try u64(field))
      case 11: return .int(Int64(bitPattern: try u64(field)))
      case 12: return .float(Double(bitPattern: try u64(field)))
      default:
        throw ModelFileError.invalidHeader(path: file.path, field: field, reason: "unknown value type \(type)")
      }
    }
  }
}
