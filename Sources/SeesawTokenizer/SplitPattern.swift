import Foundation

/// The regular expressions that byte-level BPE tokenizers split text with before merging, run by hand-written
/// scanners (an order of magnitude faster than a regex engine) for the well-known patterns, and by
/// NSRegularExpression for any other.
///
///     GPT-2, SmolLM2:  's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///     Llama 3:         (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*
///                      |\s*[\r\n]+|\s+(?!\S)|\s+
///     Qwen2:           as Llama 3 with \p{N} (single digits)
enum SplitPattern {
  case gpt2
  /// Llama 3 (maxDigits 3) and Qwen2 (maxDigits 1).
  case llama3(maxDigits: Int)
  case regex(NSRegularExpression)

  static let gpt2Source = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
  static let llama3Source =
    #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
  static let qwen2Source =
    #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

  /// The scanner for `source`; throws when an unknown pattern does not compile.
  init(source: String) throws {
    switch source {
    case Self.gpt2Source: self = .gpt2
    case Self.llama3Source: self = .llama3(maxDigits: 3)
    case Self.qwen2Source: self = .llama3(maxDigits: 1)
    default: self = .regex(try NSRegularExpression(pattern: source))
    }
  }

  /// Appends the matches of the pattern in `s[range]` (which the well-known patterns cover completely).
  func matches(_ s: UnsafeBufferPointer<Unicode.Scalar>, _ range: Range<Int>, into out: inout [Range<Int>]) {
    switch self {
    case .gpt2:
      var i = range.lowerBound
      while i < range.upperBound {
        let end = Self.gpt2Match(s, i, range.upperBound)
        out.append(i..<end)
        i = end
      }
    case .llama3(let maxDigits):
      var i = range.lowerBound
      while i < range.upperBound {
        let end = Self.llama3Match(s, i, range.upperBound, maxDigits: maxDigits)
        out.append(i..<end)
        i = end
      }
    case .regex(let regex):
      Self.regexMatches(regex, s, range, into: &out)
    }
  }

  /// Length of an apostrophe contraction at i ('s 't 'm 'd 're 've 'll), 0 if none.
  @inline(__always) static func contraction(
    _ s: UnsafeBufferPointer<Unicode.Scalar>, _ i: Int, _ n: Int, ignoreCase: Bool
  ) -> Int {
    guard s[i] == "'", i + 1 < n else { return 0 }
    func lower(_ c: Unicode.Scalar) -> UInt32 {
      ignoreCase && c.value >= 65 && c.value <= 90 ? c.value + 32 : c.value
    }
    let c1 = lower(s[i + 1])
    if c1 == 115 || c1 == 116 || c1 == 109 || c1 == 100 { return 2 }  // s t m d
    guard i + 2 < n else { return 0 }
    let c2 = lower(s[i + 2])
    if (c1 == 114 && c2 == 101) || (c1 == 118 && c2 == 101) || (c1 == 108 && c2 == 108) { return 3 }  // re ve ll
    return 0
  }

  /// End of `\s+(?!\S)|\s+` starting at whitespace i: the run, less its last character when a non-space follows.
  @inline(__always) static func whitespaceEnd(_ s: UnsafeBufferPointer<Unicode.Scalar>, _ i: Int, _ n: Int) -> Int {
    var k = i
    while k < n && CharacterClass.isWhitespace(s[k]) { k += 1 }
    if k == n || k - i == 1 { return k }
    return k - 1
  }

  static func gpt2Match(_ s: UnsafeBufferPointer<Unicode.Scalar>, _ i: Int, _ n: Int) -> Int {
    let c = s[i]
    let contraction = contraction(s, i, n, ignoreCase: false)
    if contraction > 0 { return i + contraction }
    let j = (c == " " && i + 1 < n) ? i + 1 : i
    let d = s[j]
    if CharacterClass.isLetter(d) {
      var k = j + 1
      while k < n && CharacterClass.isLetter(s[k]) { k += 1 }
      return k
    }
    if CharacterClass.isNumber(d) {
      var k = j + 1
      while k < n && CharacterClass.isNumber(s[k]) { k += 1 }
      return k
    }
    if CharacterClass.isOther(d) {
      var k = j + 1
      while k < n && CharacterClass.isOther(s[k]) { k += 1 }
      return k
    }
    return whitespaceEnd(s, i, n)
  }

  static func llama3Match(_ s: UnsafeBufferPointer<Unicode.Scalar>, _ i: Int, _ n: Int, maxDigits: Int) -> Int {
    let c = s[i]
    let contraction = contraction(s, i, n, ignoreCase: true)
    if contraction > 0 { return i + contraction }
    // [^\r\n\p{L}\p{N}]?\p{L}+
    var start = -1
    if CharacterClass.isLetter(c) {
      start = i
    } else if !CharacterClass.isNewline(c) && !CharacterClass.isNumber(c) && i + 1 < n
      && CharacterClass.isLetter(s[i + 1])
    {
      start = i + 1
    }
    if start >= 0 {
      var k = start + 1
      while k < n && CharacterClass.isLetter(s[k]) { k += 1 }
      return k
    }
    // \p{N}{1,maxDigits}
    if CharacterClass.isNumber(c) {
      var k = i + 1
      while k < n && k - i < maxDigits && CharacterClass.isNumber(s[k]) { k += 1 }
      return k
    }
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    let j = (c == " " && i + 1 < n) ? i + 1 : i
    if CharacterClass.isOther(s[j]) {
      var k = j + 1
      while k < n && CharacterClass.isOther(s[k]) { k += 1 }
      while k < n && CharacterClass.isNewline(s[k]) { k += 1 }
      return k
    }
    // \s*[\r\n]+ : the whitespace run up to its last newline.
    var k = i
    var lastNewline = -1
    while k < n && CharacterClass.isWhitespace(s[k]) {
      if CharacterClass.isNewline(s[k]) { lastNewline = k }
      k += 1
    }
    if lastNewline >= 0 { return lastNewline + 1 }
    return whitespaceEnd(s, i, n)
  }

  /// Matches of an arbitrary pattern; offsets are mapped from UTF-16 back to scalar indices.
  static func regexMatches(
    _ regex: NSRegularExpression, _ s: UnsafeBufferPointer<Unicode.Scalar>, _ range: Range<Int>,
    into out: inout [Range<Int>]
  ) {
    var view = String.UnicodeScalarView()
    var utf16ToScalar: [Int] = []
    for idx in range {
      view.append(s[idx])
      for _ in 0..<(s[idx].value > 0xFFFF ? 2 : 1) { utf16ToScalar.append(idx) }
    }
    utf16ToScalar.append(range.upperBound)
    let text = String(view)
    for match in regex.matches(in: text, range: NSRange(location: 0, length: utf16ToScalar.count - 1))
    where match.range.length > 0 {
      out.append(utf16ToScalar[match.range.location]..<utf16ToScalar[match.range.location + match.range.length])
    }
  }
}
