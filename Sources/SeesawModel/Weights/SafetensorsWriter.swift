import Foundation
import SeesawTensor

/// Writes f32 tensors as one `.safetensors` file (header, then data in the order given), stored as F32 or as BF16
/// (rounded to nearest even).
public enum SafetensorsWriter {
  /// - Parameters:
  ///   - tensors: name and tensor, written in this order.
  ///   - dtype: `.f32` or `.bf16`, the stored type of every tensor.
  ///   - metadata: goes to `__metadata__`.
  public static func write(
    _ tensors: [(name: String, tensor: Tensor)], dtype: DType = .f32, metadata: [String: String] = ["format": "pt"],
    to path: String
  ) throws {
    precondition(dtype == .f32 || dtype == .bf16, "safetensors export writes F32 or BF16, not \(dtype)")
    let elementBytes = dtype.bytesPerBlock
    var header = "{\"__metadata__\":" + (try jsonString(metadata))
    var offset = 0
    for (name, tensor) in tensors {
      let bytes = tensor.count * elementBytes
      let shape = tensor.shape.map(String.init).joined(separator: ",")
      header += ",\(try jsonString(name)):{\"dtype\":\"\(dtype)\",\"shape\":[\(shape)],"
      header += "\"data_offsets\":[\(offset),\(offset + bytes)]}"
      offset += bytes
    }
    header += "}"
    // The data must start 8-byte aligned: pad the header with spaces, as the reference writer does.
    while (header.utf8.count % 8) != 0 { header += " " }

    guard FileManager.default.createFile(atPath: path, contents: nil),
      let handle = FileHandle(forWritingAtPath: path)
    else { throw ModelFileError.cannotOpen(path: path, reason: "cannot create") }
    defer { try? handle.close() }
    var length = UInt64(header.utf8.count).littleEndian
    try handle.write(contentsOf: Data(bytes: &length, count: 8))
    try handle.write(contentsOf: Data(header.utf8))
    for (_, tensor) in tensors {
      switch dtype {
      case .bf16:
        let bits = (0..<tensor.count).map { BFloat16.bits(tensor.data[$0]).littleEndian }
        try bits.withUnsafeBytes { try handle.write(contentsOf: Data($0)) }
      default:
        try handle.write(contentsOf: Data(bytes: tensor.data, count: tensor.count * 4))
      }
    }
  }

  static func jsonString(_ value: Any) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])
    return String(decoding: data, as: UTF8.self)
  }
}
