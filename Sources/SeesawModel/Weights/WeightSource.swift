import Foundation
import SeesawTensor

/// A model's tensors addressed by their Hugging Face names (`model.layers.3.self_attn.q_proj.weight`), whatever the
/// file format stores. Loading checks each tensor's shape against the config and converts it to the compute form.
public struct WeightSource: Sendable {
  /// The file or directory, for error messages.
  public let path: String
  let lookup: @Sendable (String) -> RawTensor?
  /// Source row for each HF row of `name`, where the file stores rows in another order.
  let rowOrder: @Sendable (String) -> [Int]?

  /// Weights of a Hugging Face directory: names and layouts are HF's already.
  public init(huggingFace dir: HFDirectory) {
    path = dir.path
    let tensors = dir.tensors
    lookup = { tensors[$0] }
    rowOrder = { _ in nil }
  }

  /// Weights of a GGUF file, renamed from llama.cpp's names. llama.cpp's converter permutes the rows of Llama's
  /// q_proj and k_proj so that its rotary kernel can rotate adjacent pairs; this source undoes that permutation so
  /// the model sees Hugging Face's "rotate half" layout either way.
  public init(gguf: GGUFFile, config: ModelConfig) {
    path = gguf.path
    let tensors = gguf.tensors
    lookup = { tensors[WeightSource.ggufName(for: $0)] }
    let permuted = gguf.metadata["general.architecture"]?.stringValue == "llama"
    rowOrder = { name in
      guard permuted else { return nil }
      if name.hasSuffix("self_attn.q_proj.weight") {
        return WeightSource.unpermutedRows(numHeads: config.numHeads, headDim: config.headDim)
      }
      if name.hasSuffix("self_attn.k_proj.weight") {
        return WeightSource.unpermutedRows(numHeads: config.numKVHeads, headDim: config.headDim)
      }
      return nil
    }
  }

  /// The raw tensor, if the source has it.
  public func raw(_ name: String) -> RawTensor? { lookup(name) }

  /// Loads `name` as f32 after checking that its shape is `shape`.
  public func load(_ name: String, shape: [Int]) throws -> Tensor {
    guard let raw = lookup(name) else { throw ModelFileError.missingTensor(path: path, tensor: name) }
    guard raw.shape == shape || (raw.shape.count == 1 && shape.count == 1 && raw.count == shape[0]) else {
      throw ModelFileError.shapeMismatch(path: path, tensor: raw.name, expected: shape, found: raw.shape)
    }
    return raw.toFloat(rowOrder: rowOrder(name))
  }

  /// Loads the matrix `name` in its stored form (compact types stay compact) after checking its shape.
  public func loadMatrix(_ name: String, shape: [Int]) throws -> WeightMatrix {
    guard let raw = lookup(name) else { throw ModelFileError.missingTensor(path: path, tensor: name) }
    guard raw.shape == shape else {
      throw ModelFileError.shapeMismatch(path: path, tensor: raw.name, expected: shape, found: raw.shape)
    }
    return raw.toMatrix(rowOrder: rowOrder(name))
  }

  /// Rows `rows` and columns `columns` of the matrix `name` (full shape `shape`), as a view of the mapped file
  /// wherever the file's layout allows: a tensor-parallel rank's share, read without touching the rest.
  public func loadMatrix(_ name: String, shape: [Int], rows: Range<Int>, columns: Range<Int>) throws -> WeightMatrix {
    guard let raw = lookup(name) else { throw ModelFileError.missingTensor(path: path, tensor: name) }
    guard raw.shape == shape else {
      throw ModelFileError.shapeMismatch(path: path, tensor: raw.name, expected: shape, found: raw.shape)
    }
    // GGUF's permuted q/k rows are copied in Hugging Face order, but only this shard's.
    var matrix = raw.toMatrix(rowOrder: rowOrder(name).map { Array($0[rows]) })
    if matrix.rows != rows.count { matrix = matrix.slice(rows: rows) }
    if columns != 0..<raw.rowLength {
      guard matrix.canSlice(columns: columns) else {
        throw ModelFileError.invalidConfig(
          path: path, field: name,
          reason:
            "columns \(columns.lowerBound)..<\(columns.upperBound) are not whole \(raw.dtype) blocks of \(raw.dtype.blockSize)"
        )
      }
      matrix = matrix.slice(columns: columns)
    }
    return matrix
  }

  /// Elements `range` of the vector `name` (a bias) as f32.
  public func load(_ name: String, shape: [Int], range: Range<Int>) throws -> Tensor {
    let full = try load(name, shape: shape)
    guard range != 0..<full.count else { return full }
    return Tensor(
      Array(UnsafeBufferPointer(start: full.data + range.lowerBound, count: range.count)), shape: [range.count])
  }

  /// Block size (in columns) of the stored matrix `name`, 1 for unblocked types or a missing tensor.
  public func columnBlock(_ name: String) -> Int { lookup(name)?.dtype.blockSize ?? 1 }

  /// HF row r = head * headDim + half * headDim/2 + i is GGUF row head * headDim + 2 * i + half:
  ///
  ///     HF   (rotate half):   x0 x1 x2 x3 | y0 y1 y2 y3     pairs (xi, yi) are headDim/2 apart
  ///     GGUF (interleaved):   x0 y0 x1 y1 x2 y2 x3 y3      pairs are adjacent
  static func unpermutedRows(numHeads: Int, headDim: Int) -> [Int] {
    let half = headDim / 2
    var order: [Int] = []
    order.reserveCapacity(numHeads * headDim)
    for h in 0..<numHeads {
      for j in 0..<2 {
        for i in 0..<half { order.append(h * headDim + 2 * i + j) }
      }
    }
    return order
  }

  /// llama.cpp's tensor name for a Hugging Face Llama/Qwen2 tensor name.
  static func ggufName(for name: String) -> String {
    switch name {
    case "model.embed_tokens.weight": return "token_embd.weight"
    case "model.norm.weight": return "output_norm.weight"
    case "lm_head.weight": return "output.weight"
    default: break
    }
    let parts = name.split(separator: ".")
    guard parts.count >= 5, parts[0] == "model", parts[1] == "layers" else { return name }
    let suffix = parts[(parts.count - 1)...].joined()
    let module = parts[3..<(parts.count - 1)].joined(separator: ".")
    let renamed: [String: String] = [
      "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
      "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
      "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
    ]
    guard let short = renamed[module] else { return name }
    return "blk.\(parts[2]).\(short).\(suffix)"
  }
}
