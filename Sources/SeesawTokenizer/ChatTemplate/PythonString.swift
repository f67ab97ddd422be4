import Foundation

/// Python's `str` methods over Swift strings, by code point (never grapheme clusters or canonical equivalence).
///
/// Searches run on UTF-8 bytes: a valid UTF-8 needle can only match at a code point boundary, so byte matches
/// are code point matches, and byte order is code point order.
enum PythonString {
  static func isSpace(_ c: Unicode.Scalar) -> Bool { JinjaLexer.isSpace(c) }

  static func codePointCount(_ s: String) -> Int { s.unicodeScalars.count }

  static func fromScalars<S: Sequence>(_ scalars: S) -> String where S.Element == Unicode.Scalar {
    var view = String.UnicodeScalarView()
    view.append(contentsOf: scalars)
    return String(view)
  }

  /// Byte offsets of the non-overlapping occurrences of `needle` (non-empty) in `haystack`, left to right.
  static func occurrences(_ haystack: [UInt8], _ needle: [UInt8], limit: Int = .max) -> [Int] {
    var found: [Int] = []
    guard !needle.isEmpty, needle.count <= haystack.count else { return found }
    var i = 0
    let last = haystack.count - needle.count
    while i <= last && found.count < limit {
      if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) {
        found.append(i)
        i += needle.count
      } else {
        i += 1
      }
    }
    return found
  }

  static func contains(_ haystack: String, _ needle: String) -> Bool {
    needle.isEmpty || !occurrences(Array(haystack.utf8), Array(needle.utf8), limit: 1).isEmpty
  }

  static func hasPrefix(_ s: String, _ prefix: String) -> Bool { s.utf8.starts(with: prefix.utf8) }

  static func hasSuffix(_ s: String, _ suffix: String) -> Bool {
    s.utf8.reversed().starts(with: suffix.utf8.reversed())
  }

  /// `str.replace(old, new, count)`; an empty `old` inserts `new` around every code point.
  static func replace(_ s: String, _ old: String, _ new: String, count: Int = -1) -> String {
    let limit = count < 0 ? Int.max : count
    if old.isEmpty {
      var out = ""
      var inserted = 0
      for c in s.unicodeScalars {
        if inserted < limit {
          out += new
          inserted += 1
        }
        out.unicodeScalars.append(c)
      }
      if inserted < limit { out += new }
      return out
    }
    let bytes = Array(s.utf8)
    let hits = occurrences(bytes, Array(old.utf8), limit: limit)
    guard !hits.isEmpty else { return s }
    var out = [UInt8]()
    out.reserveCapacity(bytes.count)
    var last = 0
    for hit in hits {
      out.append(contentsOf: bytes[last..<hit])
      out.append(contentsOf: new.utf8)
      last = hit + old.utf8.count
    }
    out.append(contentsOf: bytes[last...])
    return String(decoding: out, as: UTF8.self)
  }

  /// `str.strip/lstrip/rstrip(chars)`; nil strips whitespace.
  static func strip(_ s: String, _ chars: String?, leading: Bool = true, trailing: Bool = true) -> String {
    let scalars = Array(s.unicodeScalars)
    let set = chars.map { Set($0.unicodeScalars) }
    let strips = { (c: Unicode.Scalar) in set?.contains(c) ?? isSpace(c) }
    var start = 0
    var end = scalars.count
    if leading { while start < end && strips(scalars[start]) { start += 1 } }
    if trailing { while end > start && strips(scalars[end - 1]) { end -= 1 } }
    return start == 0 && end == scalars.count ? s : fromScalars(scalars[start..<end])
  }

  /// `str.split(sep, maxsplit)`: nil splits on runs of whitespace and drops empty parts.
  static func split(_ s: String, _ separator: String?, maxSplit: Int = -1) -> [String] {
    let limit = maxSplit < 0 ? Int.max : maxSplit
    guard let separator else {
      let scalars = Array(s.unicodeScalars)
      var parts: [String] = []
      var i = 0
      while i < scalars.count {
        while i < scalars.count && isSpace(scalars[i]) { i += 1 }
        if i == scalars.count { break }
        if parts.count == limit {
          var end = scalars.count
          while end > i && isSpace(scalars[end - 1]) { end -= 1 }
          parts.append(fromScalars(scalars[i..<end]))
          break
        }
        let start = i
        while i < scalars.count && !isSpace(scalars[i]) { i += 1 }
        parts.append(fromScalars(scalars[start..<i]))
      }
      return parts
    }
    let bytes = Array(s.utf8)
    let hits = occurrences(bytes, Array(separator.utf8), limit: limit)
    var parts: [String] = []
    var last = 0
    for hit in hits {
      parts.append(String(decoding: bytes[last..<hit], as: UTF8.self))
      last = hit + separator.utf8.count
    }
    parts.append(String(decoding: bytes[last...], as: UTF8.self))
    return parts
  }

  /// `str.rsplit(sep, maxsplit)`.
  static func rsplit(_ s: String, _ separator: String?, maxSplit: Int = -1) -> [String] {
    if maxSplit < 0 { return split(s, separator) }
    let reversedParts = split(
      fromScalars(s.unicodeScalars.reversed()), separator.map { fromScalars($0.unicodeScalars.reversed()) },
      maxSplit: maxSplit)
    return reversedParts.reversed().map { fromScalars($0.unicodeScalars.reversed()) }
  }

  /// `str.splitlines(keepends)`: splits on \n, \r, \r\n, \v, \f, \x1c-\x1e, \x85, U+2028 and U+2029.
  static func splitLines(_ s: String, keepEnds: Bool = false) -> [String] {
    let scalars = Array(s.unicodeScalars)
    var lines: [String] = []
    var start = 0
    var i = 0
    while i < scalars.count {
      let v = scalars[i].value
      if [0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029].contains(v) {
        var end = i + 1
        if v == 0x0D && end < scalars.count && scalars[end] == "\n" { end += 1 }
        lines.append(fromScalars(scalars[start..<(keepEnds ? end : i)]))
        start = end
        i = end
      } else {
        i += 1
      }
    }
    if start < scalars.count { lines.append(fromScalars(scalars[start...])) }
    return lines
  }

  /// Python's `str.upper()` / `lower()`: full Unicode case mappings, per code point.
  static func upper(_ s: String) -> String { s.uppercased() }
  static func lower(_ s: String) -> String { s.lowercased() }

  static func isCased(_ c: Unicode.Scalar) -> Bool {
    c.properties.isLowercase || c.properties.isUppercase || c.properties.generalCategory == .titlecaseLetter
  }

  /// `str.title()`: a cased character after an uncased one starts a word ("they're" → "They'Re").
  static func title(_ s: String) -> String {
    var out = ""
    var previousCased = false
    for c in s.unicodeScalars {
      out += previousCased ? c.properties.lowercaseMapping : c.properties.titlecaseMapping
      previousCased = isCased(c)
    }
    return out
  }

  /// `str.capitalize()`: the first character title-cased, the rest lower-cased.
  static func capitalize(_ s: String) -> String {
    guard let first = s.unicodeScalars.first else { return s }
    return first.properties.titlecaseMapping + lower(fromScalars(s.unicodeScalars.dropFirst()))
  }

  /// `str.center(width, fill)`, with CPython's choice of which side gets the odd space.
  static func center(_ s: String, _ width: Int, fill: String = " ") -> String {
    let length = codePointCount(s)
    let margin = width - length
    guard margin > 0 else { return s }
    let left = margin / 2 + (margin & width & 1)
    return String(repeating: fill, count: left) + s + String(repeating: fill, count: margin - left)
  }

  /// Python's `isalnum()` for one character, which regex `\w` (with `_`) builds on.
  static func isAlphanumeric(_ c: Unicode.Scalar) -> Bool {
    c.properties.isAlphabetic || c.properties.numericType != nil
  }

  /// Python predicates that need at least one character and hold for all (`isdigit`, `isalpha`, ...).
  static func all(_ s: String, _ predicate: (Unicode.Scalar) -> Bool) -> Bool {
    !s.isEmpty && s.unicodeScalars.allSatisfy(predicate)
  }

  /// `str.islower()`/`isupper()`: some cased character, and none of the other case.
  static func isLower(_ s: String) -> Bool {
    let scalars = s.unicodeScalars
    return scalars.contains(where: isCased)
      && !scalars.contains { $0.properties.isUppercase || $0.properties.generalCategory == .titlecaseLetter }
  }

  static func isUpper(_ s: String) -> Bool {
    let scalars = s.unicodeScalars
    return scalars.contains(where: isCased)
      && !scalars.contains { $0.properties.isLowercase || $0.properties.generalCategory == .titlecaseLetter }
  }
}
