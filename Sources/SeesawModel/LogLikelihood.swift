import Foundation
import SeesawTensor

/// How well a model predicts a token sequence: log p(tokens[i + 1] | tokens[0...i]) for every token after the
/// first, natural log. Perplexity is exp(-mean). The measure of numerical drift between forward-pass variants
/// (`seesaw perplexity --reference`): the same text scored by a reference and by a reduced-precision path.
public struct LogLikelihood: Sendable, Equatable {
  /// [numScored] log-likelihood of token i + 1 given tokens 0...i.
  public let perToken: [Double]

  public init(perToken: [Double]) {
    self.perToken = perToken
  }

  /// Tokens scored: every token but the first.
  public var numScored: Int { perToken.count }
  /// Mean per-token log-likelihood (NaN when nothing was scored).
  public var mean: Double { perToken.reduce(0, +) / Double(perToken.count) }
  public var perplexity: Double { exp(-mean) }

  /// Scores `tokens` (at least two, each inside the vocabulary) as one sequence from position 0. Past the model's
  /// context length (`maxPositionEmbeddings`) the scores mean little; callers decide whether to allow that.
  ///
  /// The sequence goes through the paged KV cache in chunks of `chunkSize` tokens, so only [chunkSize, vocab]
  /// logits exist at a time however long the text; each chunk's rows predict the chunk's next tokens:
  ///
  ///     tokens    t0 t1 t2 t3 | t4 t5 t6 t7 | t8 t9        chunkSize 4
  ///     row i     scores t(i+1): chunk 0 scores t1..t4, chunk 1 t5..t8, chunk 2 t9 (t9's row is not computed)
  /// The cache stores `kvCacheDType` (bf16 to measure that opt-in's drift).
  public init(model: LlamaModel, tokens: [Int32], chunkSize: Int = 128, kvCacheDType: KVCacheDType = .f32) {
    precondition(tokens.count >= 2, "scoring needs at least two tokens")
    precondition(chunkSize > 0, "chunk size must be positive")
    precondition(tokens.allSatisfy { $0 >= 0 && Int($0) < model.config.vocabSize }, "token id outside the vocabulary")
    let numBlocks = (tokens.count + model.blockSize - 1) / model.blockSize
    let cache = PagedKVCache(
      config: model.config, numBlocks: numBlocks, blockSize: model.blockSize, dtype: kvCacheDType)
    let blockTable = (0..<Int32(numBlocks)).map { $0 }
    var perToken: [Double] = []
    perToken.reserveCapacity(tokens.count - 1)
    for start in stride(from: 0, to: tokens.count - 1, by: chunkSize) {
      let end = min(start + chunkSize, tokens.count)
      var batch = ForwardBatch(
        chunks: [.init(tokens: Array(tokens[start..<end]), startPosition: start, blockTable: blockTable)],
        blockSize: model.blockSize, allLogits: true)
      if end == tokens.count { batch.logitRows.removeLast() }  // the last token predicts nothing we score
      let logits = model.forward(batch, cache: cache)  // [rows, vocab]
      for row in 0..<logits.rows {
        perToken.append(Self.logSoftmax(logits.row(row), count: logits.rowLength, at: Int(tokens[start + row + 1])))
      }
    }
    self.init(perToken: perToken)
  }

  /// log_softmax(x)[index] with the normalizer summed in Float64 (a 49k-term sum of f32 exps loses digits).
  static func logSoftmax(_ x: UnsafePointer<Float>, count: Int, at index: Int) -> Double {
    var m = -Float.infinity
    for i in 0..<count { m = max(m, x[i]) }
    var sum: Double = 0
    let shift = Double(m)
    for i in 0..<count { sum += exp(Double(x[i]) - shift) }
    return Double(x[index]) - shift - log(sum)
  }
}
