import Foundation
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
}
