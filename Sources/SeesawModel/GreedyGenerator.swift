import SeesawTensor

/// Greedy generation for a fixed set of prompts: one batched prefill, then batched decode steps, each sequence
/// owning contiguous-in-table (not necessarily contiguous-in-memory) KV blocks: the minimal driver of
/// `LlamaModel` for model-level tests, without the engine (SeesawEngine schedules real workloads).
public struct GreedyGenerator {
  public let model: LlamaModel
  public let cache: PagedKVCache

  public init(model: LlamaModel, cache: PagedKVCache) {
    precondition(cache.blockSize == model.blockSize, "cache block size differs from the model's")
    self.model = model
    self.cache = cache
  }

  /// Blocks needed for `numTokens` positions.
  public func numBlocks(for numTokens: Int) -> Int { (numTokens + cache.blockSize - 1) / cache.blockSize }

  /// Greedy continuations of every prompt, up to `maxTokens` each. Block tables interleave the sequences' blocks
  /// so that a paging bug cannot hide behind contiguous storage.
  /// - Parameters:
  ///   - prefillChunk: prompts are prefilled in chunks of at most this many tokens per sequence.
  ///   - stopTokenIDs: a sequence ends when it generates one of these (which is kept as its last id).
  public func generate(
    prompts: [[Int32]], maxTokens: Int, prefillChunk: Int = .max, stopTokenIDs: Set<Int32> = []
  ) -> [[Int32]] {
    let numSeqs = prompts.count
    let maxLength = (prompts.map(\.count).max() ?? 0) + maxTokens
    let blocksPerSeq = numBlocks(for: maxLength)
    precondition(blocksPerSeq * numSeqs <= cache.numBlocks, "KV cache too small: \(cache.numBlocks) blocks")
    let tables: [[Int32]] = (0..<numSeqs).map { s in
      (0..<blocksPerSeq).map { b in Int32(b * numSeqs + (numSeqs - 1 - s)) }
    }
    var outputs = [[Int32]](repeating: [], count: numSeqs)
    var done = [Int](repeating: 0, count: numSeqs)  // prompt tokens already prefilled
    // Prefill, chunk by chunk; the last chunk of a prompt yields its first generated token.
    while let _ = done.indices.first(where: { done[$0] < prompts[$0].count }) {
      var chunks: [ForwardBatch.Chunk] = []
      var owners: [Int] = []
      for s in 0..<numSeqs where done[s] < prompts[s].count {
        let end = min(prompts[s].count, done[s] + prefillChunk)
        chunks.append(.init(tokens: Array(prompts[s][done[s]..<end]), startPosition: done[s], blockTable: tables[s]))
        owners.append(s)
        done[s] = end
      }
      let logits = model.forward(ForwardBatch(chunks: chunks, blockSize: cache.blockSize), cache: cache)
      for (i, s) in owners.enumerated() where done[s] == prompts[s].count && maxTokens > 0 {
        outputs[s].append(Int32(Elementwise.argmax(logits.row(i), count: logits.rowLength)))
      }
    }
    // Decode: one token per unfinished sequence per step.
    func finished(_ s: Int) -> Bool {
      outputs[s].count >= maxTokens || outputs[s].last.map(stopTokenIDs.contains) == true
    }
    while (0..<numSeqs).contains(where: { !finished($0) }) {
      let active = (0..<numSeqs).filter { !finished($0) }
      let chunks = active.map { s in
        ForwardBatch.Chunk(
          tokens: [outputs[s].last!], startPosition: prompts[s].count + outputs[s].count - 1, blockTable: tables[s])
      }
      let logits = model.forward(ForwardBatch(chunks: chunks, blockSize: cache.blockSize), cache: cache)
      for (i, s) in active.enumerated() {
        outputs[s].append(Int32(Elementwise.argmax(logits.row(i), count: logits.rowLength)))
      }
    }
    return outputs
  }
}
