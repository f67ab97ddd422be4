import SeesawModel

/// Shapes of the models the paper and users run, by name (from each model's config.json on the Hugging Face hub);
/// any config.json or GGUF path works too (through `ModelFiles`).
public enum ModelShapes {
  static func llama(
    hidden: Int, intermediate: Int, layers: Int, heads: Int, kvHeads: Int, vocab: Int, tied: Bool = false
  ) -> ModelConfig {
    ModelConfig(
      architecture: .llama, hiddenSize: hidden, intermediateSize: intermediate, numLayers: layers, numHeads: heads,
      numKVHeads: kvHeads, vocabSize: vocab, tieWordEmbeddings: tied, maxPositionEmbeddings: 8192)
  }

  public static let named: [String: ModelConfig] = [
    "llama2-7b": llama(hidden: 4096, intermediate: 11008, layers: 32, heads: 32, kvHeads: 32, vocab: 32000),
    "llama2-13b": llama(hidden: 5120, intermediate: 13824, layers: 40, heads: 40, kvHeads: 40, vocab: 32000),
    "llama2-70b": llama(hidden: 8192, intermediate: 28672, layers: 80, heads: 64, kvHeads: 8, vocab: 32000),
    "codellama-34b": llama(hidden: 8192, intermediate: 22016, layers: 48, heads: 64, kvHeads: 8, vocab: 32000),
    "llama3-8b": llama(hidden: 4096, intermediate: 14336, layers: 32, heads: 32, kvHeads: 8, vocab: 128256),
    "llama3-70b": llama(hidden: 8192, intermediate: 28672, layers: 80, heads: 64, kvHeads: 8, vocab: 128256),
    // The paper's "Llama-3-15B-Instruct-zeroed" (elinas): Llama-3-8B's layers stacked to 64.
    "llama3-15b": llama(hidden: 4096, intermediate: 14336, layers: 64, heads: 32, kvHeads: 8, vocab: 128256),
    "smollm2-135m": llama(hidden: 576, intermediate: 1536, layers: 30, heads: 9, kvHeads: 3, vocab: 49152, tied: true),
  ]

  /// A named shape, or the config of a model file or directory.
  public static func config(_ name: String) throws -> ModelConfig {
    if let c = named[name.lowercased()] { return c }
    if let files = try? ModelFiles(path: name) { return files.config }
    throw SimulationError.unknown(what: "model", name: name, known: named.keys.sorted().joined(separator: ", "))
  }
}
