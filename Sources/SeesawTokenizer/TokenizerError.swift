import Foundation

/// Everything that can be wrong with a tokenizer file or its use. Cases name the file and the field.
public enum TokenizerError: Error, LocalizedError, Equatable {
  /// The file cannot be read.
  case cannotOpen(path: String, reason: String)
  /// The file is not the JSON (or GGUF metadata) it should be, or a field has the wrong type.
  case invalidFile(path: String, field: String, reason: String)
  /// The tokenizer uses a component (model, normalizer, pre-tokenizer, decoder) the engine does not implement.
  case unsupported(path: String, field: String, value: String)

  public var errorDescription: String? {
    switch self {
    case .cannotOpen(let path, let reason): return "\(path): cannot open: \(reason)"
    case .invalidFile(let path, let field, let reason): return "\(path): field '\(field)': \(reason)"
    case .unsupported(let path, let field, let value): return "\(path): unsupported \(field) '\(value)'"
    }
  }
}
