import Foundation

/// Errors of requests and engine configuration: each names the request or option and what is wrong.
public enum EngineError: Error, LocalizedError, Equatable {
  /// A sampling parameter is out of range.
  case invalidSamplingParams(field: String, reason: String)
  /// A request cannot be served (empty prompt, prompt longer than the KV cache can ever hold, bad token id).
  case invalidRequest(id: String, reason: String)
  /// An engine option (KV budget, token budget, chunk size) is out of range.
  case invalidConfig(field: String, reason: String)
  /// Requests remain but the scheduler found nothing it could run (a bug; the counters say where things stand).
  case stalled(stats: String)

  public var errorDescription: String? {
    switch self {
    case .invalidSamplingParams(let field, let reason): return "sampling parameter '\(field)': \(reason)"
    case .invalidRequest(let id, let reason): return "request \(id): \(reason)"
    case .invalidConfig(let field, let reason): return "engine option '\(field)': \(reason)"
    case .stalled(let stats): return "the scheduler stalled with requests left (\(stats))"
    }
  }
}
