import Foundation

/// Everything that can be wrong with a model directory or file. Every case names the file and, where there is one,
/// the tensor or field, so that a user can find the problem without a debugger.
public enum ModelFileError: Error, LocalizedError, Equatable {
  /// The path does not exist, is not readable, or cannot be memory-mapped.
  case cannotOpen(path: String, reason: String)
  /// The path exists but is neither a GGUF file nor a Hugging Face model directory.
  case unrecognizedFormat(path: String)
  /// The file ends before a structure that it declares (`what`) is complete.
  case truncated(path: String, what: String, offset: Int, needed: Int, fileSize: Int)
  /// A header field holds an impossible value (wrong magic, offsets outside the file, sizes that do not add up).
  case invalidHeader(path: String, field: String, reason: String)
  /// A tensor is stored in a type the engine cannot read.
  case unsupportedDType(path: String, tensor: String, dtype: String)
  /// The model's architecture is not one the engine implements.
  case unsupportedArchitecture(path: String, architecture: String)
  /// A tensor the model needs is not in the file(s).
  case missingTensor(path: String, tensor: String)
  /// A tensor's shape disagrees with the model config.
  case shapeMismatch(path: String, tensor: String, expected: [Int], found: [Int])
  /// A config field (config.json or GGUF metadata) is missing or out of range.
  case invalidConfig(path: String, field: String, reason: String)

  public var errorDescription: String? {
    switch self {
    case .cannotOpen(let path, let reason):
      return "\(path): cannot open: \(reason)"
    case .unrecognizedFormat(let path):
      return "\(path): not a GGUF file nor a directory with config.json and *.safetensors"
    case .truncated(let path, let what, let offset, let needed, let fileSize):
      return "\(path): truncated: \(what) needs \(needed) bytes at offset \(offset), but the file has \(fileSize)"
    case .invalidHeader(let path, let field, let reason):
      return "\(path): invalid header field '\(field)': \(reason)"
    case .unsupportedDType(let path, let tensor, let dtype):
      return "\(path): tensor '\(tensor)' has unsupported dtype \(dtype)"
    case .unsupportedArchitecture(let path, let architecture):
      return "\(path): unsupported architecture '\(architecture)' (supported: llama, mistral, qwen2)"
    case .missingTensor(let path, let tensor):
      return "\(path): missing tensor '\(tensor)'"
    case .shapeMismatch(let path, let tensor, let expected, let found):
      return "\(path): tensor '\(tensor)' has shape \(found), expected \(expected)"
    case .invalidConfig(let path, let field, let reason):
      return "\(path): config field '\(field)': \(reason)"
    }
  }
}
