import Foundation

/// Turns token strings back into text (tokenizer.json's `decoder`), step by step over the token list as Hugging
/// Face's decoders do.
indirect enum TokenDecoder: Sendable {
  /// Byte-level tokens -> bytes -> UTF-8 (invalid sequences become U+FFFD).
  case byteLevel
  /// "▁" -> " ", and the first token loses its leading space unless the prepend scheme is "never".
  case metaspace(replacement: Character, stripLeading: Bool)
  case replace(pattern: String, content: String)
  /// "<0x0A>"-style tokens -> their bytes.
  case byteFallback
  /// All tokens joined into one.
  case fuse
  /// Removes up to `start` leading and `stop` trailing copies of `content` from every token.
  case strip(content: Unicode.Scalar, start: Int, stop: Int)
  case sequence([TokenDecoder])

  func decode(_ tokens: [String]) -> [String] {
    switch self {
    case .byteLevel:
      var bytes: [UInt8] = []
      for token in tokens { ByteLevel.decode(token, into: &bytes) }
      return [String(decoding: bytes, as: UTF8.self)]
    case .metaspace(let replacement, let stripLeading):
      return tokens.enumerated().map { i, token in
        let t = token.replacingOccurrences(of: String(replacement), with: " ")
        // Scalars, not Characters: " " and a following combining mark are one Character.
        if i == 0 && stripLeading && t.unicodeScalars.first == " " {
          return String(String.UnicodeScalarView(t.unicodeScalars.dropFirst()))
        }
        return t
      }
    case .replace(let pattern, let content):
      return tokens.map { $0.replacingOccurrences(of: pattern, with: content) }
    case .byteFallback:
      var out: [String] = []
      var pending: [UInt8] = []
      func flush() {
        guard !pending.isEmpty else { return }
        if let s = String(validating: pending, as: UTF8.self) {
          out.append(s)
        } else {
          out.append(contentsOf: Array(repeating: "\u{FFFD}", count: pending.count))
        }
        pending.removeAll()
      }
      for token in tokens {
        if let b = Self.fallbackByte(token) {
          pending.append(b)
        } else {
          flush()
          out.append(token)
        }
      }
      flush()
      return out
    case .fuse:
      return [tokens.joined()]
    case .strip(let content, let start, let stop):
      // Scalars, not Characters: " " and a following combining mark are one Character.
      return tokens.map { token in
        var scalars = Substring(token).unicodeScalars[...]
        var n = 0
        while n < start, scalars.first == content {
          scalars.removeFirst()
          n += 1
        }
        n = 0
        while n < stop, scalars.last == content {
          scalars.removeLast()
          n += 1
        }
        return String(String.UnicodeScalarView(scalars))
      }
    case .sequence(let steps):
      return steps.reduce(tokens) { $1.decode($0) }
    }
  }

  /// The byte of a "<0xAB>" token.
  static func fallbackByte(_ token: String) -> UInt8? {
    let u = token.utf8
    guard u.count == 6, token.hasPrefix("<0x"), token.hasSuffix(">") else { return nil }
    return UInt8(token.dropFirst(3).dropLast(), radix: 16)
  }

  /// Parses a tokenizer.json decoder object.
  init(json: [String: Any], path: String) throws {
    let type = json["type"] as? String ?? "(missing)"
    switch type {
    case "ByteLevel": self = .byteLevel
    case "Metaspace":
      let replacement = (json["replacement"] as? String)?.first ?? "▁"
      let scheme = json["prepend_scheme"] as? String ?? ((json["add_prefix_space"] as? Bool ?? true) ? "always" : "never")
      self = .metaspace(replacement: replacement, stripLeading: scheme != "never")
    case "Replace":
      guard let content = json["content"] as? String,
        let pattern = (json["pattern"] as? [String: Any])?["String"] as? String
      else { throw TokenizerError.unsupported(path: path, field: "decoder.Replace pattern", value: "\(json)") }
      self = .replace(pattern: pattern, content: content)
    case "ByteFallback": self = .byteFallback
    case "Fuse": self = .fuse
    case "Strip":
      self = .strip(
        content: (json["content"] as? String)?.unicodeScalars.first ?? " ", start: json["start"] as? Int ?? 0,
        stop: json["stop"] as? Int ?? 0)
    case "Sequence":
      let steps = json["decoders"] as? [[String: Any]] ?? []
      self = .sequence(try steps.map { try TokenDecoder(json: $0, path: path) })
    default:
      throw TokenizerError.unsupported(path: path, field: "decoder", value: type)
    }
  }
}
