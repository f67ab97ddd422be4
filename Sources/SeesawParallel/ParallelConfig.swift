/// A parallel layout: `dp` independent replicas, each `pp` pipeline stages of `tp` tensor-parallel ranks.
///
/// World ranks are numbered with tp fastest, then pp, then dp (Megatron's and vLLM's order), so the ranks of one
/// tensor-parallel group are neighbours:
///
///     dp2tp2pp2      rank:   0  1 | 2  3 || 4  5 | 6  7
///                    stage:  0  0 | 1  1 || 0  0 | 1  1
///                    tp:     0  1 | 0  1 || 0  1 | 0  1
///                    replica 0 ---------  || replica 1 ---
public struct ParallelConfig: Sendable, Hashable, CustomStringConvertible {
  public var dp: Int
  public var tp: Int
  public var pp: Int

  public init(dp: Int = 1, tp: Int = 1, pp: Int = 1) {
    self.dp = dp
    self.tp = tp
    self.pp = pp
  }

  /// The compact form: `tp2pp2`, `dp2pp4`, `tp4`, in any order; `single` (or `1`) is one rank.
  public init(parsing text: String) throws {
    var config = ParallelConfig()
    let lower = text.lowercased()
    guard lower != "single" && lower != "1" else {
      self = config
      return
    }
    var rest = Substring(lower)
    var seen = Set<String>()
    while !rest.isEmpty {
      guard let key = ["dp", "tp", "pp"].first(where: { rest.hasPrefix($0) }) else {
        throw ParallelConfigError.unparsable(text: text)
      }
      rest = rest.dropFirst(2)
      let digits = rest.prefix(while: \.isNumber)
      guard let value = Int(digits), !seen.contains(key) else { throw ParallelConfigError.unparsable(text: text) }
      seen.insert(key)
      rest = rest.dropFirst(digits.count)
      switch key {
      case "dp": config.dp = value
      case "tp": config.tp = value
      default: config.pp = value
      }
    }
    guard !seen.isEmpty else { throw ParallelConfigError.unparsable(text: text) }
    try config.validate()
    self = config
  }

  public var worldSize: Int { dp * tp * pp }
  /// Ranks per replica.
  public var replicaSize: Int { tp * pp }
  public var isSingle: Bool { worldSize == 1 }

  /// `tp2pp2`; one rank is `tp1`.
  public var description: String {
    let parts = [("dp", dp), ("tp", tp), ("pp", pp)].filter { $0.1 > 1 }.map { "\($0.0)\($0.1)" }
    return parts.isEmpty ? "tp1" : parts.joined()
  }

  public func validate() throws {
    for (name, value) in [("data-parallel-size", dp), ("tensor-parallel-size", tp), ("pipeline-parallel-size", pp)]
    where value < 1 || value > 1024 {
      throw ParallelConfigError.outOfRange(field: name, value: value)
    }
  }

  /// Where world rank `rank` sits in the layout.
  public func coordinates(of rank: Int) -> RankCoordinates {
    precondition(rank >= 0 && rank < worldSize, "rank \(rank) outside a world of \(worldSize)")
    return RankCoordinates(replica: rank / replicaSize, stage: rank % replicaSize / tp, tpRank: rank % tp)
  }

  /// The world rank at a position of the layout.
  public func rank(of c: RankCoordinates) -> Int { (c.replica * pp + c.stage) * tp + c.tpRank }
}

/// A rank's place in a `ParallelConfig`.
public struct RankCoordinates: Sendable, Hashable {
  public var replica: Int
  public var stage: Int
  public var tpRank: Int

  public init(replica: Int, stage: Int, tpRank: Int) {
    self.replica = replica
    self.stage = stage
    self.tpRank = tpRank
  }
}

/// Errors of layout flags: each names the flag or text and what is wrong.
public enum ParallelConfigError: Error, Equatable, CustomStringConvertible {
  /// The compact form could not be read.
  case unparsable(text: String)
  /// A size is below 1 or absurdly large.
  case outOfRange(field: String, value: Int)
  /// The model cannot be split this way (heads, layers, vocabulary or block alignment).
  case unsplittable(field: String, reason: String)

  public var description: String {
    switch self {
    case .unparsable(let text):
      return
        "parallel layout '\(text)': expected a compact form like tp2, pp4, tp2pp2 or dp2pp4 (each of dp/tp/pp at most once)"
    case .outOfRange(let field, let value): return "--\(field) must be in 1...1024, got \(value)"
    case .unsplittable(let field, let reason): return "cannot split the model's \(field): \(reason)"
    }
  }
}

/// Tags of the point-to-point messages between ranks, one range per kind so that they never collide.
public enum MessageTag {
  /// Driver -> worker: the next step's command.
  public static let command = 1
  /// Worker -> driver: counters at shutdown.
  public static let report = 2
  /// Worker -> driver: this rank finished the step's K/V moves (the host buffer holds its slice).
  public static let transfersDone = 3
  /// Stage -> next stage: hidden states of micro-batch i (tag hidden + i).
  public static let hidden = 1_000
  /// Last stage -> driver: logits of micro-batch i (tag logits + i).
  public static let logits = 100_000
}
