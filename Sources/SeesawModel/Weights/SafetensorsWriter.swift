import Foundation
import SeesawTensor

/// Writes f32 tensors as one `.safetensors` file (header, then data in the order given).
public enum SafetensorsWriter {
  /// - Parameter tensors: name and tensor, written in this order; `metadata` goes to `__metadata__`.
  public static func write(
    _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = ["format": "pt"], to path: String
  ) throws {
    var header = "{\"__metadata__\":" + (try jsonString(metadata))
    var offset = 0
    for (name, tensor) in tensors {
      let bytes = tensor.count * 4
      let shape = tensor.shape.map(String.init).joined(separator: ",")
      header += ",\(try jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + bytes)]}"
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
      try handle.write(contentsOf: Data(bytes: tensor.data, count: tensor.count * 4))
    }
  }

  static func jsonString(_ value: Any) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])
    return String(decoding: data, as: UTF8.self)
  }
}
