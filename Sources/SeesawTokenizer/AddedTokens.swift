/// A token matched in raw text before normalization and splitting (`added_tokens` of tokenizer.json, the control
/// and user-defined tokens of a GGUF vocabulary): "<|im_start|>" in user text becomes its id, not 6 BPE pieces.
public struct AddedToken: Sendable, Equatable {
  public var id: Int32
  public var content: String
  /// Special tokens are dropped by `decode(skipSpecialTokens: true)`.
  public var special: Bool
  /// The match also swallows whitespace on its left / right.
  public var lstrip: Bool
  public var rstrip: Bool

  public init(id: Int32, content: String, special: Bool, lstrip: Bool = false, rstrip: Bool = false) {
    self.id = id
    self.content = content
    self.special = special
    self.lstrip = lstrip
    self.rstrip = rstrip
  }
}

/// Leftmost-longest matching of added tokens in a scalar buffer.
struct AddedTokenMatcher: Sendable {
  enum Segment: Equatable {
    case text(Range<Int>)
    case token(Int32)
  }

  /// Candidates by first scalar, longest first.
  private let byFirst: [UInt32: [(scalars: [Unicode.Scalar], token: AddedToken)]]

  init(_ tokens: [AddedToken]) {
    var map: [UInt32: [(scalars: [Unicode.Scalar], token: AddedToken)]] = [:]
    for token in tokens where !token.content.isEmpty {
      let scalars = Array(token.content.unicodeScalars)
      map[scalars[0].value, default: []].append((scalars, token))
    }
    byFirst = map.mapValues { $0.sorted { $0.scalars.count > $1.scalars.count } }
  }

  /// Text ranges and added-token ids in order.
  func split(_ text: [Unicode.Scalar]) -> [Segment] {
    if byFirst.isEmpty { return [.text(0..<text.count)] }
    var segments: [Segment] = []
    var textStart = 0
    var i = 0
    let n = text.count
    while i < n {
      guard let candidates = byFirst[text[i].value],
        let match = candidates.first(where: { c in
          i + c.scalars.count <= n && text[i..<(i + c.scalars.count)].elementsEqual(c.scalars)
        })
      else {
        i += 1
        continue
      }
      var left = i
      if match.token.lstrip {
        while left > textStart && text[left - 1].properties.isWhitespace { left -= 1 }
      }
      var right = i + match.scalars.count
      if match.token.rstrip {
        while right < n && text[right].properties.isWhitespace { right += 1 }
      }
      if left > textStart { segments.append(.text(textStart..<left)) }
      segments.append(.token(match.token.id))
      textStart = right
      i = right
    }
    if textStart < n { segments.append(.text(textStart..<n)) }
    return segments
  }
}
