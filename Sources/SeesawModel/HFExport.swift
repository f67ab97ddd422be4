import Foundation
import SeesawTensor

/// Writes a model as a Hugging Face directory (config.json + model.safetensors in f32 or bf16, HF tensor names and
/// the rotate-half Q/K layout), e.g. to turn a GGUF into something transformers and this engine's HF reader load.
/// Only the weights: the tokenizer files (tokenizer.json, ...) are the caller's to add.
public enum HFExport {
  /// Every tensor name a model with `config` has, in a stable order.
  public static func tensorShapes(_ config: ModelConfig) -> [(String, [Int])] {
    let (h, i, v) = (config.hiddenSize, config.intermediateSize, config.vocabSize)
    var list: [(String, [Int])] = [("model.embed_tokens.weight", [v, h])]
    for l in 0..<config.numLayers {
      let p = "model.layers.\(l)"
      list += [
        ("\(p).input_layernorm.weight", [h]),
        ("\(p).self_attn.q_proj.weight", [config.qDim, h]),
        ("\(p).self_attn.k_proj.weight", [config.kvDim, h]),
        ("\(p).self_attn.v_proj.weight", [config.kvDim, h]),
        ("\(p).self_attn.o_proj.weight", [h, config.qDim]),
      ]
      if config.attentionBias {
        list += [
          ("\(p).self_attn.q_proj.bias", [config.qDim]), ("\(p).self_attn.k_proj.bias", [config.kvDim]),
          ("\(p).self_attn.v_proj.bias", [config.kvDim]),
        ]
      }
      list += [
        ("\(p).post_attention_layernorm.weight", [h]),
        ("\(p).mlp.gate_proj.weight", [i, h]),
        ("\(p).mlp.up_proj.weight", [i, h]),
        ("\(p).mlp.down_proj.weight", [h, i]),
      ]
    }
    list.append(("model.norm.weight", [h]))
    if !config.tieWordEmbeddings { list.append(("lm_head.weight", [v, h])) }
    return list
  }

  /// The config.json transformers reads for `config` with weights stored as `dtype` (f32 or bf16).
  public static func configJSON(_ config: ModelConfig, dtype: DType = .f32) -> [String: Any] {
    let className = ["llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM"]
    var json: [String: Any] = [
      "architectures": [className[config.architecture.rawValue]!],
      "model_type": config.architecture.rawValue,
      "hidden_size": config.hiddenSize,
      "intermediate_size": config.intermediateSize,
      "num_hidden_layers": config.numLayers,
      "num_attention_heads": config.numHeads,
      "num_key_value_heads": config.numKVHeads,
      "head_dim": config.headDim,
      "vocab_size": config.vocabSize,
      "rms_norm_eps": config.rmsNormEps,
      "rope_theta": config.ropeTheta,
      "tie_word_embeddings": config.tieWordEmbeddings,
      "max_position_embeddings": config.maxPositionEmbeddings,
      "hidden_act": "silu",
      "torch_dtype": dtype == .bf16 ? "bfloat16" : "float32",
    ]
    if config.architecture == .llama { json["attention_bias"] = config.attentionBias }
    if let bos = config.bosTokenID { json["bos_token_id"] = bos }
    if let eos = config.eosTokenIDs.first { json["eos_token_id"] = config.eosTokenIDs.count == 1 ? eos : config.eosTokenIDs }
    if let window = config.slidingWindow { json["sliding_window"] = window }
    switch config.ropeScaling {
    case nil: break
    case .linear(let factor): json["rope_scaling"] = ["rope_type": "linear", "factor": factor]
    case .llama3(let factor, let low, let high, let original):
      json["rope_scaling"] = [
        "rope_type": "llama3", "factor": factor, "low_freq_factor": low, "high_freq_factor": high,
        "original_max_position_embeddings": original,
      ]
    }
    return json
  }

  /// Writes `files` as an HF directory at `directory` (created if needed), every tensor stored as `dtype`: `.f32`
  /// or `.bf16` (rounded to nearest even, as `torch.Tensor.to(torch.bfloat16)` does).
  public static func write(_ files: ModelFiles, to directory: String, dtype: DType = .f32) throws {
    precondition(dtype == .f32 || dtype == .bf16, "HF export writes f32 or bf16, not \(dtype)")
    if files.weights.raw("rope_freqs.weight") != nil {
      throw ModelFileError.invalidConfig(
        path: files.path, field: "rope_freqs.weight", reason: "export of GGUF rope frequency factors is not supported")
    }
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let config = try JSONSerialization.data(
      withJSONObject: configJSON(files.config, dtype: dtype), options: [.prettyPrinted, .sortedKeys])
    try config.write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("config.json")))
    let tensors = try tensorShapes(files.config).map { name, shape in
      (name: name, tensor: try files.weights.load(name, shape: shape))
    }
    try SafetensorsWriter.write(
      tensors, dtype: dtype, to: (directory as NSString).appendingPathComponent("model.safetensors"))
  }
}
