import Foundation

/// A Hugging Face model directory: `config.json` plus `model.safetensors`, or shards listed by
/// `model.safetensors.index.json` (`{"weight_map": {"tensor name": "model-00001-of-00002.safetensors"}}`).
public struct HFDirectory: Sendable {
  public let path: String
  /// Every tensor of every shard by name.
  public let tensors: [String: RawTensor]

  public init(path: String) throws {
    self.path = path
    let fm = FileManager.default
    let single = (path as NSString).appendingPathComponent("model.safetensors")
    let index = (path as NSString).appendingPathComponent("model.safetensors.index.json")
    var shardNames: [String]
    if fm.fileExists(atPath: index) {
      guard let data = fm.contents(atPath: index),
        let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
        let weightMap = json["weight_map"] as? [String: String]
      else {
        throw ModelFileError.invalidHeader(path: index, field: "weight_map", reason: "missing or not an object")
      }
      shardNames = Array(Set(weightMap.values)).sorted()
      var tensors: [String: RawTensor] = [:]
      for shard in shardNames {
        guard !shard.contains("/") else {
          throw ModelFileError.invalidHeader(path: index, field: "weight_map", reason: "shard '\(shard)' is a path")
        }
        let file = try SafetensorsFile(path: (path as NSString).appendingPathComponent(shard))
        tensors.merge(file.tensors) { a, _ in a }
      }
      for (name, shard) in weightMap where tensors[name] == nil {
        throw ModelFileError.missingTensor(path: (path as NSString).appendingPathComponent(shard), tensor: name)
      }
      self.tensors = tensors
    } else if fm.fileExists(atPath: single) {
      shardNames = ["model.safetensors"]
      tensors = try SafetensorsFile(path: single).tensors
    } else {
      throw ModelFileError.cannotOpen(
        path: path, reason: "neither model.safetensors nor model.safetensors.index.json is present")
    }
  }
}
