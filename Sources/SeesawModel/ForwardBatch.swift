import SeesawTensor

/// One flat batch of tokens from many sequences (prefill chunks and decode tokens mixed), the only input of a
/// forward pass besides the KV cache.
///
///     tokens     a0 a1 a2 a3 | b0 | c0 c1        sequence a: a prefill chunk, b: a decode token, c: a chunk
///     positions   8  9 10 11 | 41 |  0  1        absolute positions (a's first 8 tokens are already cached)
///     slots      .. per token: block * blockSize + offset where its K/V is written
public struct ForwardBatch: Sendable, Equatable {
  /// [numTokens]
  public var tokenIDs: [Int32]
  /// [numTokens] absolute position of each token in its sequence.
  public var positions: [Int32]
  /// [numTokens] KV slot of each token.
  public var slots: [Int32]
  /// Which rows belong to which sequence, with its block table.
  public var sequences: [AttentionSequence]
  /// Rows whose logits the pass returns, in this order (usually each sequence's last token).
  public var logitRows: [Int]

  public init(
    tokenIDs: [Int32], positions: [Int32], slots: [Int32], sequences: [AttentionSequence], logitRows: [Int]
  ) {
    self.tokenIDs = tokenIDs
    self.positions = positions
    self.slots = slots
    self.sequences = sequences
    self.logitRows = logitRows
  }

  public var numTokens: Int { tokenIDs.count }

  /// One sequence's part of a batch: `tokens` continue the sequence at `startPosition`; K/V of positions before
  /// it are already in the blocks of `blockTable`, which must cover startPosition + tokens.count.
  public struct Chunk: Sendable {
    public var tokens: [Int32]
    public var startPosition: Int
    public var blockTable: [Int32]

    public init(tokens: [Int32], startPosition: Int, blockTable: [Int32]) {
      self.tokens = tokens
      self.startPosition = startPosition
      self.blockTable = blockTable
    }
  }

  /// Lays out chunks back to back; logits for each chunk's last token, or for every token when `allLogits`.
  public init(chunks: [Chunk], blockSize: Int, allLogits: Bool = false) {
    var tokenIDs: [Int32] = [], positions: [Int32] = [], slots: [Int32] = []
    var sequences: [AttentionSequence] = [], logitRows: [Int] = []
    for chunk in chunks {
      precondition(
        chunk.blockTable.count * blockSize >= chunk.startPosition + chunk.tokens.count,
        "block table too short for \(chunk.startPosition + chunk.tokens.count) positions")
      let start = tokenIDs.count
      for (i, token) in chunk.tokens.enumerated() {
        let p = chunk.startPosition + i
        tokenIDs.append(token)
        positions.append(Int32(p))
        slots.append(chunk.blockTable[p / blockSize] * Int32(blockSize) + Int32(p % blockSize))
        if allLogits { logitRows.append(start + i) }
      }
      if !allLogits && !chunk.tokens.isEmpty { logitRows.append(tokenIDs.count - 1) }
      sequences.append(AttentionSequence(tokenStart: start, numTokens: chunk.tokens.count, blockTable: chunk.blockTable))
    }
    self.init(tokenIDs: tokenIDs, positions: positions, slots: slots, sequences: sequences, logitRows: logitRows)
  }
}
