import Foundation
import SeesawTensor

/// One `.safetensors` file: an 8-byte little-endian header length, a JSON header
/// `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`, then the data.
/// Offsets are relative to the end of the header. Tensors are views of the memory map.
public final class SafetensorsFile: @unchecked Sendable {
  public let file: MappedFile
  public let tensors: [String: RawTensor]
  public let metadata: [String: String]

  public var path: String { file.path }

  public convenience init(path: String) throws {
    try self.init(file: MappedFile(path: path))
  }

  public init(file: MappedFile) throws {
    self.file = file
    let path = file.path
    try file.check(0, 8, "header length")
    let headerLength = file.base.loadUnaligned(as: UInt64.self)
    guard headerLength <= UInt64(file.size - 8) else {
      throw ModelFileError.truncated(
        path: path, what: "JSON header", offset: 8, needed: Int(clamping: headerLength), fileSize: file.size)
    }
    let dataStart = 8 + Int(headerLength)
    let header = Data(bytes: file.base + 8, count: Int(headerLength))
    guard let json = try? JSONSerialization.jsonObject(with: header), let entries = json as? [String: Any] else {
      throw ModelFileError.invalidHeader(path: path, field: "header", reason: "not a JSON object")
    }
    var tensors: [String: RawTensor] = [:]
    var metadata: [String: String] = [:]
    for (name, entry) in entries {
      if name == "__metadata__" {
        for (k, v) in entry as? [String: Any] ?? [:] { metadata[k] = v as? String ?? "\(v)" }
        continue
      }
      guard let info = entry as? [String: Any] else {
        throw ModelFileError.invalidHeader(path: path, field: name, reason: "entry is not an object")
      }
      guard let dtypeName = info["dtype"] as? String else {
        throw ModelFileError.invalidHeader(path: path, field: "\(name).dtype", reason: "missing")
      }
      guard let dtype = DType(safetensorsName: dtypeName) else {
        throw ModelFileError.unsupportedDType(path: path, tensor: name, dtype: dtypeName)
      }
      guard let shape = (info["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
        shape.count == (info["shape"] as? [Any])?.count, shape.allSatisfy({ $0 >= 0 && $0 <= Int(Int32.max) })
      else {
        throw ModelFileError.invalidHeader(path: path, field: "\(name).shape", reason: "not a list of sizes")
      }
      guard let offsets = (info["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
        offsets.count == 2, offsets[0] >= 0, offsets[1] >= offsets[0]
      else {
        throw ModelFileError.invalidHeader(path: path, field: "\(name).data_offsets", reason: "not [begin, end]")
      }
      var count = 1
      for d in shape {
        let (c, overflow) = count.multipliedReportingOverflow(by: d)
        guard !overflow else {
          throw ModelFileError.invalidHeader(path: path, field: "\(name).shape", reason: "\(shape) overflows")
        }
        count = c
      }
      let (expected, bytesOverflow) = count.multipliedReportingOverflow(by: dtype.bytesPerBlock)
      guard !bytesOverflow else {
        throw ModelFileError.invalidHeader(
          path: path, field: "\(name).shape", reason: "\(shape) of \(dtypeName) needs more than \(Int.max) bytes")
      }
      guard offsets[0] <= file.size - dataStart else {
        throw ModelFileError.invalidHeader(
          path: path, field: "\(name).data_offsets",
          reason: "begin \(offsets[0]) is past the \(file.size - dataStart) bytes of data")
      }
      guard offsets[1] - offsets[0] == expected else {
        throw ModelFileError.invalidHeader(
          path: path, field: "\(name).data_offsets",
          reason: "\(offsets[1] - offsets[0]) bytes for \(dtypeName) \(shape), which needs \(expected)")
      }
      try file.check(dataStart + offsets[0], expected, "data of tensor '\(name)'")
      tensors[name] = RawTensor(
        name: name, dtype: dtype, shape: shape, bytes: file.base + dataStart + offsets[0], file: file)
    }
    self.tensors = tensors
    self.metadata = metadata
  }
}
