import Foundation

/// Failures of a parallel run: each names the rank or message at fault.
public enum ExecutorError: Error, LocalizedError, Equatable {
  /// A message between ranks did not decode (ranks built from different versions, or corrupted traffic).
  case protocolError(reason: String)
  /// A rank failed to load its shard or to run a step; the run stops.
  case rankFailed(rank: Int, reason: String)

  public var errorDescription: String? {
    switch self {
    case .protocolError(let reason): return "parallel protocol: \(reason)"
    case .rankFailed(let rank, let reason): return "rank \(rank) failed: \(reason)"
    }
  }
}
