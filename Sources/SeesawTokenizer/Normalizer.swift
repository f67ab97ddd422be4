import Foundation

/// Text rewrites applied before splitting (tokenizer.json's `normalizer`), on Unicode scalars.
indirect enum Normalizer: Sendable {
  /// Prepends a string (SentencePiece's "▁") to non-empty text.
  case prepend(String)
  /// Replaces every occurrence of a string.
  case replace(pattern: String, content: String)
  case nfc, nfd, nfkc, nfkd
  case lowercase
  /// Strips whitespace on the left and/or right.
  case strip(left: Bool, right: Bool)
  case sequence([Normalizer])

  func apply(_ text: String) -> String {
    switch self {
    case .prepend(let prefix): return text.isEmpty ? text : prefix + text
    case .replace(let pattern, let content): return text.replacingOccurrences(of: pattern, with: content)
    case .nfc: return text.precomposedStringWithCanonicalMapping
    case .nfd: return text.decomposedStringWithCanonicalMapping
    case .nfkc: return text.precomposedStringWithCompatibilityMapping
    case .nfkd: return text.decomposedStringWithCompatibilityMapping
    case .lowercase: return text.lowercased()
    case .strip(let left, let right):
      var scalars = Substring(text).unicodeScalars[...]
      if left { while let f = scalars.first, f.properties.isWhitespace { scalars.removeFirst() } }
      if right { while let l = scalars.last, l.properties.isWhitespace { scalars.removeLast() } }
      return String(String.UnicodeScalarView(scalars))
    case .sequence(let steps): return steps.reduce(text) { $1.apply($0) }
    }
  }

  /// Parses a tokenizer.json normalizer object.
  init(json: [String: Any], path: String) throws {
    let type = json["type"] as? String ?? "(missing)"
    switch type {
    case "Prepend": self = .prepend(json["prepend"] as? String ?? "")
    case "Replace":
      guard let content = json["content"] as? String, let pattern = (json["pattern"] as? [String: Any])?["String"] as? String
      else { throw TokenizerError.unsupported(path: path, field: "normalizer.Replace pattern", value: "\(json["pattern"] ?? "")") }
      self = .replace(pattern: pattern, content: content)
    case "NFC": self = .nfc
    case "NFD": self = .nfd
    case "NFKC": self = .nfkc
    case "NFKD": self = .nfkd
    case "Lowercase": self = .lowercase
    case "Strip": self = .strip(left: json["strip_left"] as? Bool ?? true, right: json["strip_right"] as? Bool ?? true)
    case "Sequence":
      let steps = json["normalizers"] as? [[String: Any]] ?? []
      self = .sequence(try steps.map { try Normalizer(json: $0, path: path) })
    default: throw TokenizerError.unsupported(path: path, field: "normalizer", value: type)
    }
  }
}
