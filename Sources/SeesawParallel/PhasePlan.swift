/// The engine's two phases and the layout of each: prefill (many tokens per step, PP-heavy) and decode (one token
/// per sequence, TP-heavy). A static plan uses one layout for both.
public enum Phase: UInt8, Sendable, CustomStringConvertible {
  case prefill = 1
  case decode = 2

  public var description: String { self == .prefill ? "prefill" : "decode" }
}

/// A layout per phase over the same ranks: `pp4 -> tp4`, `dp2pp4 -> dp2tp4`. Both layouts have the same number of
/// ranks and the same dp, so a replica's ranks stay a replica's ranks and only their roles change.
public struct PhasePlan: Sendable, Hashable, CustomStringConvertible {
  public var prefill: ParallelConfig
  public var decode: ParallelConfig

  public init(prefill: ParallelConfig, decode: ParallelConfig) throws {
    guard prefill.worldSize == decode.worldSize && prefill.dp == decode.dp else {
      throw ParallelConfigError.unsplittable(
        field: "phase plan",
        reason: "prefill \(prefill) and decode \(decode) must have the same number of ranks and the same dp")
    }
    self.prefill = prefill
    self.decode = decode
  }

  /// One layout for both phases.
  public init(static layout: ParallelConfig) {
    prefill = layout
    decode = layout
  }

  public var isStatic: Bool { prefill == decode }
  public var worldSize: Int { prefill.worldSize }
  public var dp: Int { prefill.dp }

  public func layout(_ phase: Phase) -> ParallelConfig { phase == .prefill ? prefill : decode }

  public var description: String { isStatic ? prefill.description : "\(prefill) -> \(decode)" }
}

extension PhasePlan {
  /// `pp8:tp4pp2` or `pp8->tp4pp2` (prefill, then decode), or one layout (`tp4`) for both phases.
  public init(parsing text: String) throws {
    let parts = text.replacingOccurrences(of: "->", with: ":").split(separator: ":").map(String.init)
    switch parts.count {
    case 1: self.init(static: try ParallelConfig(parsing: parts[0]))
    case 2: try self.init(prefill: try ParallelConfig(parsing: parts[0]), decode: try ParallelConfig(parsing: parts[1]))
    default: throw ParallelConfigError.unparsable(text: text)
    }
  }
}
