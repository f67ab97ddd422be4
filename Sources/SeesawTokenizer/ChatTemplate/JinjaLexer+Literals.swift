import Foundation

/// Tokens inside tags: numbers, names, strings and operators, with jinja2's regexes spelled out by hand.
extension JinjaLexer {
  /// Python's `str.isspace` / regex `\s`: Unicode White_Space plus the separators U+001C...U+001F.
  static func isSpace(_ c: Unicode.Scalar) -> Bool {
    c.properties.isWhitespace || (0x1C...0x1F).contains(c.value)
  }

  static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 48 && c.value <= 57 }

  func has(_ scalars: [Unicode.Scalar], at index: Int) -> Bool {
    guard index >= 0, index + scalars.count <= src.count else { return false }
    for (offset, scalar) in scalars.enumerated() where src[index + offset] != scalar { return false }
    return true
  }

  /// The first `{{`, `{%` or `{#` at or after `pos`.
  func nextTagStart() -> Int? {
    var p = pos
    while p + 1 < src.count {
      if src[p] == "{" {
        let next = src[p + 1]
        if next == "{" || next == "%" || next == "#" { return p }
      }
      p += 1
    }
    return nil
  }

  /// The end of `{% raw %}` (or `{%- raw -%}` and its whitespace) when the block tag at hand is one.
  func matchRawBegin(_ afterSign: Int) -> Int? {
    var j = afterSign
    while j < src.count && JinjaLexer.isSpace(src[j]) { j += 1 }
    guard has(["r", "a", "w"], at: j) else { return nil }
    j += 3
    while j < src.count && JinjaLexer.isSpace(src[j]) { j += 1 }
    if j < src.count && src[j] == "-" && has(["%", "}"], at: j + 1) {
      j += 3
      while j < src.count && JinjaLexer.isSpace(src[j]) { j += 1 }
      return j
    }
    return has(["%", "}"], at: j) ? j + 2 : nil
  }

  mutating func emitData(_ start: Int, _ end: Int) {
    guard end > start else { return }
    let (line, column) = location(start)
    var text = String.UnicodeScalarView()
    text.append(contentsOf: src[start..<end])
    tokens.append(JinjaToken(.data, String(text), line: line, column: column))
  }

  /// 1-based line and column of a source index.
  func location(_ index: Int) -> (Int, Int) {
    var low = 0
    var high = newlineIndices.count
    while low < high {
      let mid = (low + high) / 2
      if newlineIndices[mid] < index { low = mid + 1 } else { high = mid }
    }
    let lineStart = low == 0 ? 0 : newlineIndices[low - 1] + 1
    return (low + 1, index - lineStart + 1)
  }

  func syntaxError(_ message: String, at index: Int) -> ChatTemplateError {
    let (line, column) = location(index)
    return .syntax(message: message, line: line, column: column)
  }

  // MARK: - Literals

  /// A float, integer, name or string literal at `pos`, in the order jinja2 tries them.
  mutating func lexLiteral() throws -> JinjaToken? {
    let start = pos
    let (line, column) = location(start)
    func text(_ end: Int) -> String {
      var view = String.UnicodeScalarView()
      view.append(contentsOf: src[start..<end])
      return String(view)
    }
    if let end = matchFloat() {
      pos = end
      let literal = text(end).replacingOccurrences(of: "_", with: "")
      return JinjaToken(.float, literal, number: .double(Double(literal) ?? .infinity), line: line, column: column)
    }
    if let (end, radix, digitsStart) = matchInteger() {
      pos = end
      var view = String.UnicodeScalarView()
      view.append(contentsOf: src[digitsStart..<end].filter { $0 != "_" })
      guard let value = Int(String(view), radix: radix) else {
        throw syntaxError("integer literal \(text(end)) does not fit in 64 bits", at: start)
      }
      return JinjaToken(.integer, text(end), number: .int(value), line: line, column: column)
    }
    let c = src[start]
    if c == "_" || c.properties.isXIDStart {
      var end = start + 1
      while end < src.count && src[end].properties.isXIDContinue { end += 1 }
      pos = end
      return JinjaToken(.name, text(end), line: line, column: column)
    }
    if c == "'" || c == "\"" {
      var j = start + 1
      while j < src.count && src[j] != c {
        j += src[j] == "\\" ? 2 : 1
      }
      guard j < src.count else { return nil }
      pos = j + 1
      let value = try JinjaLexer.decodeEscapes(src[(start + 1)..<j]) {
        syntaxError($0, at: start)
      }
      return JinjaToken(.string, value, line: line, column: column)
    }
    return nil
  }

  /// `(\d+_)*\d+`: digits with single underscores between them.
  private func digitRun(_ i: Int) -> Int? {
    guard i < src.count, JinjaLexer.isDigit(src[i]) else { return nil }
    var j = i + 1
    while j < src.count {
      if JinjaLexer.isDigit(src[j]) {
        j += 1
      } else if src[j] == "_" && j + 1 < src.count && JinjaLexer.isDigit(src[j + 1]) {
        j += 2
      } else {
        break
      }
    }
    return j
  }

  /// `(?<!\.)(\d+_)*\d+((\.(\d+_)*\d+)?e[+\-]?(\d+_)*\d+|\.(\d+_)*\d+)`, case-insensitive.
  private func matchFloat() -> Int? {
    if pos > 0 && src[pos - 1] == "." { return nil }
    guard let whole = digitRun(pos) else { return nil }
    var fractionEnd: Int? = nil
    if whole < src.count && src[whole] == "." { fractionEnd = digitRun(whole + 1) }
    func exponent(_ i: Int) -> Int? {
      guard i < src.count, src[i] == "e" || src[i] == "E" else { return nil }
      var j = i + 1
      if j < src.count && (src[j] == "+" || src[j] == "-") { j += 1 }
      return digitRun(j)
    }
    if let fractionEnd, let end = exponent(fractionEnd) { return end }
    if let end = exponent(whole) { return end }
    return fractionEnd
  }

  /// Binary, octal, hex, decimal without leading zeros, or zeros; returns the end, radix and digit start.
  private func matchInteger() -> (Int, Int, Int)? {
    guard pos < src.count, JinjaLexer.isDigit(src[pos]) else { return nil }
    if src[pos] == "0" && pos + 1 < src.count {
      let prefixes: [(Unicode.Scalar, Int)] = [("b", 2), ("o", 8), ("x", 16)]
      for (letter, radix) in prefixes where src[pos + 1].properties.lowercaseMapping == String(letter) {
        var j = pos + 2
        var matched = false
        while true {
          let k = j < src.count && src[j] == "_" ? j + 1 : j
          guard k < src.count, let digit = Int(String(src[k]), radix: radix), digit >= 0 else { break }
          j = k + 1
          matched = true
        }
        if matched { return (j, radix, pos + 2) }
      }
    }
    var j = pos + 1
    let nonZero = src[pos] != "0"
    while true {
      let k = j < src.count && src[j] == "_" ? j + 1 : j
      guard k < src.count, JinjaLexer.isDigit(src[k]), nonZero || src[k] == "0" else { break }
      j = k + 1
    }
    return (j, 10, pos)
  }

  /// The longest operator at `pos`, keeping brackets balanced as jinja2 does.
  mutating func lexOperator() throws {
    let (line, column) = location(pos)
    let c = src[pos]
    let next: Unicode.Scalar = pos + 1 < src.count ? src[pos + 1] : " "
    let two = String(c) + String(next)
    let symbol: String
    if ["//", "**", "==", "!=", ">=", "<="].contains(two) {
      symbol = two
    } else if "+-/*%~[](){}><=.:|,;".unicodeScalars.contains(c) {
      symbol = String(c)
    } else {
      throw syntaxError("unexpected char \(JinjaRepr.repr(.string(String(c)))) at \(pos)", at: pos)
    }
    switch c {
    case "(": brackets.append(")")
    case "[": brackets.append("]")
    case "{": brackets.append("}")
    case ")", "]", "}":
      guard let expected = brackets.popLast() else { throw syntaxError("unexpected '\(c)'", at: pos) }
      if expected != c { throw syntaxError("unexpected '\(c)', expected '\(expected)'", at: pos) }
    default: break
    }
    tokens.append(JinjaToken(.op, symbol, line: line, column: column))
    pos += symbol.unicodeScalars.count
  }
}
