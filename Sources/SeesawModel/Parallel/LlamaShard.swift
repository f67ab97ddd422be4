import SeesawParallel

/// The part of a Llama model that one rank holds, as data: its pipeline stage's contiguous layers and, inside each
/// layer, its tensor-parallel share (Megatron-style).
///
///     column-parallel   q/k/v rows of qHeads/kvHeads, gate/up rows of `intermediate`   (no communication)
///     row-parallel      o_proj columns of qHeads, down_proj columns of `intermediate`   (one all-reduce each)
///     vocab-parallel    embedding rows and LM head rows of `vocab`   (embedding all-reduced, logits gathered)
///
/// Heads are split by KV group, so that a rank's query heads use only its own KV heads:
///
///     9 heads, 3 KV heads (SmolLM2), tp 2:   rank 0: KV 0-1, heads 0-5 | rank 1: KV 2, heads 6-8
///     9 heads, 3 KV heads, tp 4 (> KV):      group 0 split over two ranks, KV head 0 replicated on both:
///                                            rank 0: KV 0, heads 0-1 | rank 1: KV 0, head 2 | 2: KV 1 | 3: KV 2
public struct LlamaShard: Sendable, Equatable, CustomStringConvertible {
  public var tpRank: Int
  public var tpSize: Int
  /// This stage's layers.
  public var layers: Range<Int>
  /// Layers of the whole model.
  public var numLayers: Int
  public var qHeads: Range<Int>
  public var kvHeads: Range<Int>
  /// The KV heads this rank writes to a shared buffer: its own, less those the previous rank replicates too.
  public var ownedKVHeads: Range<Int>
  /// MLP columns (rows of gate/up, columns of down).
  public var intermediate: Range<Int>
  /// Vocabulary rows of the embedding and the LM head.
  public var vocab: Range<Int>

  public var isFirstStage: Bool { layers.lowerBound == 0 }
  public var isLastStage: Bool { layers.upperBound == numLayers }
  public var isWhole: Bool { tpSize == 1 && layers.count == numLayers }

  /// The whole model on one rank.
  public static func whole(_ config: ModelConfig) -> LlamaShard {
    LlamaShard(
      tpRank: 0, tpSize: 1, layers: 0..<config.numLayers, numLayers: config.numLayers, qHeads: 0..<config.numHeads,
      kvHeads: 0..<config.numKVHeads, ownedKVHeads: 0..<config.numKVHeads, intermediate: 0..<config.intermediateSize,
      vocab: 0..<config.vocabSize)
  }

  /// Rank (stage, tpRank)'s shard of a model split `tp` ways inside each of `pp` stages. `columnBlock` is the
  /// largest block size (in columns) of the row-parallel matrices, whose column slices must be whole blocks.
  public static func make(
    config: ModelConfig, tp: Int, pp: Int, stage: Int, tpRank: Int, oProjBlock: Int = 1, downProjBlock: Int = 1
  ) throws -> LlamaShard {
    guard let stages = Partition.even(config.numLayers, parts: pp) else {
      throw ParallelConfigError.unsplittable(
        field: "layers", reason: "\(config.numLayers) layers cannot make \(pp) pipeline stages")
    }
    let heads = try headRanges(config: config, tp: tp)
    let (q, kv) = heads[tpRank]
    let firstOwned =
      tpRank == 0 ? kv.lowerBound : min(max(kv.lowerBound, heads[tpRank - 1].1.upperBound), kv.upperBound)
    let d = config.headDim
    guard
      (q.lowerBound * d) % oProjBlock == 0 && (q.upperBound * d % oProjBlock == 0 || q.upperBound == config.numHeads)
    else {
      throw ParallelConfigError.unsplittable(
        field: "o_proj columns",
        reason:
          "tp \(tp) cuts them at head \(q.lowerBound) (column \(q.lowerBound * d)), inside a \(oProjBlock)-column quantization block"
      )
    }
    guard let inter = Partition.even(config.intermediateSize, parts: tp, unit: downProjBlock) else {
      throw ParallelConfigError.unsplittable(
        field: "MLP columns",
        reason:
          "\(config.intermediateSize) columns are fewer than \(tp) whole \(downProjBlock)-column quantization blocks")
    }
    guard let vocab = Partition.even(config.vocabSize, parts: tp) else {
      throw ParallelConfigError.unsplittable(field: "vocabulary", reason: "\(config.vocabSize) rows over \(tp) ranks")
    }
    return LlamaShard(
      tpRank: tpRank, tpSize: tp, layers: stages[stage], numLayers: config.numLayers, qHeads: q, kvHeads: kv,
      ownedKVHeads: firstOwned..<kv.upperBound, intermediate: inter[tpRank], vocab: vocab[tpRank])
  }

  /// The most query and KV heads any of `tp` ranks holds: heads go by KV group, so a split can be uneven (SmolLM2's
  /// 3 groups of 3 heads over 2 ranks: 6 + 3). nil when the heads cannot be split `tp` ways.
  public static func busiestHeads(config: ModelConfig, tp: Int) -> (query: Int, kv: Int)? {
    guard let ranges = try? headRanges(config: config, tp: tp) else { return nil }
    return (ranges.map(\.0.count).max() ?? 0, ranges.map(\.1.count).max() ?? 0)
  }

  /// (query heads, KV heads) of every tensor-parallel rank.
  static func headRanges(config: ModelConfig, tp: Int) throws -> [(Range<Int>, Range<Int>)] {
    let (h, kv) = (config.numHeads, config.numKVHeads)
    let group = h / kv
    if let kvSplit = Partition.even(kv, parts: tp) {
      return kvSplit.map { ($0.lowerBound * group..<$0.upperBound * group, $0) }
    }
    // More ranks than KV heads: each KV group is split over some ranks, which all hold (replicate) its KV head.
    guard tp <= h, let ranksPerGroup = Partition.even(tp, parts: kv) else {
      throw ParallelConfigError.unsplittable(field: "attention heads", reason: "\(h) heads cannot go to \(tp) ranks")
    }
    var out: [(Range<Int>, Range<Int>)] = []
    for (g, ranks) in ranksPerGroup.enumerated() {
      guard let split = Partition.even(group, parts: ranks.count) else {
        throw ParallelConfigError.unsplittable(
          field: "attention heads",
          reason: "a group of \(group) query heads per KV head cannot go to \(ranks.count) ranks")
      }
      out += split.map { (g * group + $0.lowerBound..<g * group + $0.upperBound, g..<(g + 1)) }
    }
    return out
  }

  public var description: String {
    "layers \(layers.lowerBound)..<\(layers.upperBound), heads \(qHeads.lowerBound)..<\(qHeads.upperBound) (KV \(kvHeads.lowerBound)..<\(kvHeads.upperBound)), MLP \(intermediate.lowerBound)..<\(intermediate.upperBound), vocab \(vocab.lowerBound)..<\(vocab.upperBound)"
  }
}
