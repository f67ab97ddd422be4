import Foundation
import SeesawParallel
import SeesawTensor

/// A model on disk, recognised by its form: a `.gguf` file or a Hugging Face directory.
public struct ModelFiles: Sendable {
  public let path: String
  public let config: ModelConfig
  public let weights: WeightSource
  /// The parsed GGUF file when the model is one (its metadata also carries the tokenizer).
  public let gguf: GGUFFile?

  public init(path: String) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw ModelFileError.cannotOpen(path: path, reason: "no such file or directory")
    }
    self.path = path
    if isDirectory.boolValue {
      let configPath = (path as NSString).appendingPathComponent("config.json")
      config = try ModelConfig(huggingFaceConfigAt: configPath)
      weights = WeightSource(huggingFace: try HFDirectory(path: path))
      gguf = nil
    } else {
      let file = try MappedFile(path: path)
      guard file.size >= 4, file.base.loadUnaligned(as: UInt32.self) == 0x4655_4747 else {
        throw ModelFileError.unrecognizedFormat(path: path)
      }
      let gguf = try GGUFFile(file: file)
      config = try ModelConfig(gguf: gguf)
      weights = WeightSource(gguf: gguf, config: config)
      self.gguf = gguf
    }
  }

  /// Builds the model (weights converted to the compute form) on `backend`.
  public func loadModel(backend: Backend = CPUBackend(), blockSize: Int = 16) throws -> LlamaModel {
    try LlamaModel(config: config, weights: weights, backend: backend, blockSize: blockSize)
  }

  /// Builds one rank's shard of the model: stage `stage` of `pp`, tensor-parallel rank `tpGroup.rank` of `tp`.
  /// Throws when the model cannot be split so (heads, layers, or quantization blocks that a slice would cut).
  public func loadShard(
    tp: Int, pp: Int, stage: Int, tpGroup: Communicator?, backend: Backend = CPUBackend(), blockSize: Int = 16
  ) throws -> LlamaModel {
    let shard = try shard(tp: tp, pp: pp, stage: stage, tpRank: tpGroup?.rank ?? 0)
    return try LlamaModel(
      config: config, weights: weights, backend: backend, blockSize: blockSize, shard: shard, tpGroup: tpGroup)
  }

  /// The shard of rank (stage, tpRank); checks that its column slices are whole quantization blocks of every layer.
  public func shard(tp: Int, pp: Int, stage: Int, tpRank: Int) throws -> LlamaShard {
    let layers = 0..<config.numLayers
    let oBlock = layers.map { weights.columnBlock("model.layers.\($0).self_attn.o_proj.weight") }.max() ?? 1
    let downBlock = layers.map { weights.columnBlock("model.layers.\($0).mlp.down_proj.weight") }.max() ?? 1
    return try LlamaShard.make(
      config: config, tp: tp, pp: pp, stage: stage, tpRank: tpRank, oProjBlock: tp > 1 ? oBlock : 1,
      downProjBlock: tp > 1 ? downBlock : 1)
  }
}
