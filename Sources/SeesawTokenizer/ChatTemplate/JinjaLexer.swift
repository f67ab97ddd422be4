import Foundation

/// Splits template source into tokens exactly as jinja2's lexer does with `trim_blocks=True, lstrip_blocks=True`.
///
/// Whitespace control happens here, on the text between tags:
///
///     text  {%- tag -%}  text     `-` strips all whitespace (newlines too) on that side
///     text  {%+ tag +%}  text     `+` keeps it: no lstrip before, no trim after
///     ⏎␣␣␣␣{% tag %}⏎           lstrip_blocks drops spaces between a line start and `{%` / `{#`;
///                                 trim_blocks drops the one newline after `%}` / `#}`
///
/// `{{ }}` takes part in `-` stripping only. The source's newlines are normalized to `\n` and one trailing newline
/// is dropped (jinja2's `keep_trailing_newline=False`).
struct JinjaLexer {
  let src: [Unicode.Scalar]
  let newlineIndices: [Int]
  var pos = 0
  var tokens: [JinjaToken] = []
  /// Whether the last match ended with a newline: lstrip_blocks then applies to text with no newline of its own.
  var lineStarting = true
  /// Closing brackets expected inside the current tag; tag ends are not recognized while brackets are open.
  var brackets: [Unicode.Scalar] = []

  static func tokenize(_ source: String) throws -> [JinjaToken] {
    var lexer = JinjaLexer(source)
    try lexer.lexRoot()
    let (line, column) = lexer.location(lexer.src.count)
    lexer.tokens.append(JinjaToken(.eof, line: line, column: column))
    return lexer.tokens
  }

  init(_ source: String) {
    var scalars: [Unicode.Scalar] = []
    scalars.reserveCapacity(source.unicodeScalars.count)
    var previousWasCR = false
    for scalar in source.unicodeScalars {
      if scalar == "\r" {
        scalars.append("\n")
        previousWasCR = true
        continue
      }
      if !(scalar == "\n" && previousWasCR) { scalars.append(scalar) }
      previousWasCR = false
    }
    if scalars.last == "\n" { scalars.removeLast() }
    src = scalars
    newlineIndices = scalars.indices.filter { scalars[$0] == "\n" }
  }

  // MARK: - States

  mutating func lexRoot() throws {
    let n = src.count
    while pos < n {
      guard let start = nextTagStart() else {
        emitData(pos, n)
        pos = n
        break
      }
      let kind = src[start + 1]
      var afterDelimiter = start + 2
      var sign: Unicode.Scalar? = nil
      if afterDelimiter < n, src[afterDelimiter] == "-" || src[afterDelimiter] == "+" {
        sign = src[afterDelimiter]
        afterDelimiter += 1
      }
      let rawEnd = kind == "%" ? matchRawBegin(afterDelimiter) : nil
      emitData(pos, strippedTextEnd(from: pos, to: start, sign: sign, lstrip: kind != "{"))
      if let rawEnd {
        pos = rawEnd
        lineStarting = src[rawEnd - 1] == "\n"
        try lexRaw(start)
      } else if kind == "#" {
        pos = afterDelimiter
        try lexComment(start)
      } else {
        let (line, column) = location(start)
        tokens.append(JinjaToken(kind == "%" ? .blockBegin : .variableBegin, line: line, column: column))
        pos = afterDelimiter
        lineStarting = false
        try lexTag(block: kind == "%")
      }
    }
  }

  /// Where the text `textStart..<tagStart` before a tag ends after `-` stripping or lstrip_blocks.
  func strippedTextEnd(from textStart: Int, to tagStart: Int, sign: Unicode.Scalar?, lstrip: Bool) -> Int {
    var end = tagStart
    if sign == "-" {
      while end > textStart && JinjaLexer.isSpace(src[end - 1]) { end -= 1 }
    } else if sign != "+" && lstrip {
      var lineStart = tagStart
      while lineStart > textStart && src[lineStart - 1] != "\n" { lineStart -= 1 }
      if (lineStart > textStart || lineStarting) && lineStart < tagStart
        && src[lineStart..<tagStart].allSatisfy(JinjaLexer.isSpace)
      {
        end = lineStart
      }
    }
    return end
  }

  /// Tokens between `{%`/`{{` and the matching end, which is consumed with its whitespace control.
  mutating func lexTag(block: Bool) throws {
    let n = src.count
    brackets.removeAll()
    while pos < n {
      if brackets.isEmpty, let end = matchTagEnd(at: pos, block: block) {
        let (line, column) = location(pos)
        tokens.append(JinjaToken(block ? .blockEnd : .variableEnd, line: line, column: column))
        lineStarting = src[end - 1] == "\n"
        pos = end
        return
      }
      let c = src[pos]
      if JinjaLexer.isSpace(c) {
        pos += 1
      } else if let token = try lexLiteral() {
        tokens.append(token)
      } else {
        try lexOperator()
      }
    }
  }

  /// `+%}`, `-%}` and following whitespace, `%}` and one newline (trim_blocks); `-}}` and whitespace, `}}`.
  func matchTagEnd(at index: Int, block: Bool) -> Int? {
    let close: [Unicode.Scalar] = block ? ["%", "}"] : ["}", "}"]
    if block && src[index] == "+" && has(close, at: index + 1) { return index + 3 }
    if src[index] == "-" && has(close, at: index + 1) {
      var end = index + 3
      while end < src.count && JinjaLexer.isSpace(src[end]) { end += 1 }
      return end
    }
    if has(close, at: index) {
      return block && index + 2 < src.count && src[index + 2] == "\n" ? index + 3 : index + 2
    }
    return nil
  }

  mutating func lexComment(_ start: Int) throws {
    var q = pos
    while q + 1 < src.count {
      if (src[q] == "+" || src[q] == "-") && has(["#", "}"], at: q + 1) {
        pos = q + 3
        if src[q] == "-" { while pos < src.count && JinjaLexer.isSpace(src[pos]) { pos += 1 } }
        lineStarting = src[pos - 1] == "\n"
        return
      }
      if src[q] == "#" && src[q + 1] == "}" {
        pos = q + 2
        if pos < src.count && src[pos] == "\n" { pos += 1 }
        lineStarting = src[pos - 1] == "\n"
        return
      }
      q += 1
    }
    throw syntaxError("Missing end of comment tag", at: start)
  }

  /// The text up to `{% endraw %}` becomes data as is; the end tag strips like any block tag.
  mutating func lexRaw(_ start: Int) throws {
    var q = pos
    while q + 1 < src.count {
      if src[q] == "{" && src[q + 1] == "%" {
        var j = q + 2
        var sign: Unicode.Scalar? = nil
        if j < src.count && (src[j] == "-" || src[j] == "+") {
          sign = src[j]
          j += 1
        }
        while j < src.count && JinjaLexer.isSpace(src[j]) { j += 1 }
        if has(Array("endraw".unicodeScalars), at: j) {
          var k = j + 6
          while k < src.count && JinjaLexer.isSpace(src[k]) { k += 1 }
          if k < src.count, let end = matchTagEnd(at: k, block: true) {
            emitData(pos, strippedTextEnd(from: pos, to: q, sign: sign, lstrip: true))
            lineStarting = src[end - 1] == "\n"
            pos = end
            return
          }
        }
      }
      q += 1
    }
    throw syntaxError("Missing end of raw directive", at: start)
  }

  /// Python's "unicode-escape" decoding of a string literal's body: `\n`, `\t`, `\xhh`, `\uXXXX`, octal, ...;
  /// an unknown escape keeps its backslash.
  static func decodeEscapes(
    _ body: ArraySlice<Unicode.Scalar>, error: (String) -> ChatTemplateError
  ) throws -> String {
    var out = String.UnicodeScalarView()
    var i = body.startIndex
    func hex(_ count: Int, _ name: String) throws -> Unicode.Scalar {
      let end = i + 1 + count
      guard end <= body.endIndex, let value = UInt32(String(String.UnicodeScalarView(body[(i + 1)..<end])), radix: 16),
        !body[(i + 1)..<end].contains(where: { $0 == "+" || $0 == "-" })
      else { throw error("truncated \(name) escape") }
      guard let scalar = Unicode.Scalar(value) else { throw error("illegal Unicode character") }
      i = end
      return scalar
    }
    while i < body.endIndex {
      let c = body[i]
      guard c == "\\", i + 1 < body.endIndex else {
        out.append(c)
        i += 1
        continue
      }
      i += 1
      let e = body[i]
      let simple: [Unicode.Scalar: Unicode.Scalar] = [
        "\\": "\\", "'": "'", "\"": "\"", "a": "\u{07}", "b": "\u{08}", "f": "\u{0C}", "n": "\n",
        "r": "\r", "t": "\t", "v": "\u{0B}",
      ]
      if let mapped = simple[e] {
        out.append(mapped)
        i += 1
      } else if e == "\n" {
        i += 1
      } else if e == "x" {
        out.append(try hex(2, "\\xXX"))
      } else if e == "u" {
        out.append(try hex(4, "\\uXXXX"))
      } else if e == "U" {
        out.append(try hex(8, "\\UXXXXXXXX"))
      } else if e.value >= 48 && e.value <= 55 {
        var value: UInt32 = 0
        var digits = 0
        while digits < 3 && i < body.endIndex && body[i].value >= 48 && body[i].value <= 55 {
          value = value * 8 + body[i].value - 48
          digits += 1
          i += 1
        }
        out.append(Unicode.Scalar(value)!)
      } else {
        out.append("\\")
        out.append(e)
        i += 1
      }
    }
    return String(out)
  }
}
