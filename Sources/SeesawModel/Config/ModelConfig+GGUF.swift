import Foundation

extension ModelConfig {
  /// Reads the `{arch}.*` metadata of a GGUF file (llama.cpp's names), e.g. `llama.block_count`.
  public init(gguf: GGUFFile) throws {
    let path = gguf.path
    let arch = gguf.metadata["general.architecture"]?.stringValue ?? "(missing)"
    guard let architecture = Architecture(rawValue: arch) else {
      throw ModelFileError.unsupportedArchitecture(path: path, architecture: arch)
    }
    func value(_ key: String) -> GGUFFile.Value? { gguf.metadata["\(arch).\(key)"] }
    func int(_ key: String) throws -> Int {
      guard let v = value(key)?.intValue else {
        throw ModelFileError.invalidConfig(path: path, field: "\(arch).\(key)", reason: "missing or not an integer")
      }
      return v
    }
    let numHeads = try int("attention.head_count")
    let hiddenSize = try int("embedding_length")
    let vocabSize =
      value("vocab_size")?.intValue ?? gguf.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count
      ?? gguf.tensors["token_embd.weight"]?.shape.first ?? 0
    var ropeScaling: RopeScaling? = nil
    if value("rope.scaling.type")?.stringValue == "linear", let factor = value("rope.scaling.factor")?.doubleValue {
      ropeScaling = .linear(factor: factor)
    }
    var eos: [Int] = []
    if let id = gguf.metadata["tokenizer.ggml.eos_token_id"]?.intValue { eos = [id] }
    self.init(
      architecture: architecture,
      hiddenSize: hiddenSize,
      intermediateSize: try int("feed_forward_length"),
      numLayers: try int("block_count"),
      numHeads: numHeads,
      numKVHeads: value("attention.head_count_kv")?.intValue ?? numHeads,
      headDim: value("attention.key_length")?.intValue ?? value("rope.dimension_count")?.intValue,
      vocabSize: vocabSize,
      rmsNormEps: Float(value("attention.layer_norm_rms_epsilon")?.doubleValue ?? 1e-5),
      ropeTheta: value("rope.freq_base")?.doubleValue ?? 10000,
      ropeScaling: ropeScaling,
      tieWordEmbeddings: gguf.tensors["output.weight"] == nil,
      maxPositionEmbeddings: value("context_length")?.intValue ?? 4096,
      attentionBias: gguf.tensors["blk.0.attn_q.bias"] != nil,
      slidingWindow: nil,
      bosTokenID: gguf.metadata["tokenizer.ggml.bos_token_id"]?.intValue,
      eosTokenIDs: eos)
    try validate(path: path)
  }
}
