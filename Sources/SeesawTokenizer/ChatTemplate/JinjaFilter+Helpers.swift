import Foundation

/// Pieces the filters share: jinja2's attribute getters, case folding for sorting, a stable throwing sort, and
/// Python's number parsing and rounding.
extension JinjaFilter {
  /// Reads a value out of an item (`map(attribute=...)`, `sort(attribute=...)`).
  typealias Getter = (JinjaValue) throws -> JinjaValue

  /// jinja2's `make_attrgetter`: `"a.b.0"` looks up `a`, then `b`, then item 0, with getitem semantics.
  static func attributeGetter(_ attribute: JinjaValue, default fallback: JinjaValue? = nil) -> Getter {
    let parts: [JinjaValue]
    switch attribute {
    case .none: parts = []
    case .string(let path):
      parts = PythonString.split(path, ".").map { part in
        part.unicodeScalars.allSatisfy(JinjaLexer.isDigit) && !part.isEmpty ? .int(Int(part) ?? 0) : .string(part)
      }
    default: parts = [attribute]
    }
    return { item in
      var current = item
      for part in parts {
        current = try JinjaInterpreter.item(current, part)
        if let fallback, current.isUndefined { current = fallback }
      }
      return current
    }
  }

  /// jinja2's `make_multi_attrgetter`: `"a,b"` sorts by `a`, then `b`.
  static func multiAttributeGetter(_ attribute: JinjaValue) -> [Getter] {
    if case .string(let list) = attribute { return PythonString.split(list, ",").map { attributeGetter(.string($0)) } }
    return [attributeGetter(attribute)]
  }

  static func ignoreCase(_ value: JinjaValue) -> JinjaValue {
    if case .string(let s) = value { return .string(PythonString.lower(s)) }
    return value
  }

  /// Python's `sorted(items, key=key, reverse=reverse)`: stable both ways, TypeError on unorderable keys.
  static func sorted(
    _ items: [JinjaValue], reverse: Bool, key: (JinjaValue) throws -> [JinjaValue]
  ) throws -> [JinjaValue] {
    let keys = try items.map { JinjaValue.array(try key($0)) }
    var order = Array(items.indices)
    var failure: Error? = nil
    order.sort { a, b in
      guard failure == nil else { return a < b }
      do {
        let comparison = try JinjaOperators.order(keys[a], keys[b], "<")
        if comparison == 0 { return a < b }
        return reverse ? comparison > 0 : comparison < 0
      } catch {
        failure = error
        return a < b
      }
    }
    if let failure { throw failure }
    return order.map { items[$0] }
  }

  /// jinja2's `round` filter: `common` rounds half to even on the exact binary value, as Python's `round`.
  static func round(_ value: JinjaValue, precision: Int, method: String) throws -> JinjaValue {
    guard ["common", "ceil", "floor"].contains(method) else {
      throw JinjaRuntimeError.type("method must be common, ceil or floor")
    }
    guard let number = value.numericValue else {
      throw JinjaRuntimeError.type("type \(value.typeName) doesn't define __round__ method")
    }
    let scale = pow(10, Double(precision))
    if method != "common" {
      let scaled = number * scale
      return .double((method == "ceil" ? scaled.rounded(.up) : scaled.rounded(.down)) / scale)
    }
    if let integer = value.integerValue {
      guard precision < 0 else { return .int(integer) }
      let unit = Double(scale)
      // A unit that underflows to 0 (round(5, -400)) rounds every integer to 0, as Python's exact arithmetic does.
      guard unit > 0 else { return .int(0) }
      return .int(try JinjaValue.integer(from: (Double(integer) * unit).rounded(.toNearestOrEven) / unit))
    }
    guard number.isFinite else { return .double(number) }
    if precision >= 0 && precision <= 300 {
      return .double(Double(String(format: "%.\(precision)f", number)) ?? number)
    }
    return .double((number * scale).rounded(.toNearestOrEven) / scale)
  }

  /// Python's `float(text)`: surrounding whitespace, underscores between digits, `inf` and `nan` allowed.
  static func parseFloat(_ text: String) -> Double? {
    let trimmed = PythonString.strip(text, nil)
    guard let cleaned = removeUnderscores(trimmed), !cleaned.isEmpty else { return nil }
    let lower = cleaned.lowercased()
    if lower.contains("x") || lower.contains("p") { return nil }
    let unsigned = lower.hasPrefix("-") || lower.hasPrefix("+") ? String(lower.dropFirst()) : lower
    if ["inf", "infinity", "nan"].contains(unsigned) {
      let magnitude = unsigned == "nan" ? Double.nan : Double.infinity
      return lower.hasPrefix("-") ? -magnitude : magnitude
    }
    guard unsigned.first.map({ $0.isNumber || $0 == "." }) == true else { return nil }
    return Double(cleaned)
  }

  /// Python's `int(text, base)`: whitespace, a sign, the base's prefix and underscores between digits allowed.
  static func parseInt(_ text: String, base: Int) -> Int? {
    var s = Substring(PythonString.strip(text, nil))
    var negative = false
    if let first = s.first, first == "-" || first == "+" {
      negative = first == "-"
      s = s.dropFirst()
    }
    var radix = base
    let prefixes: [String: Int] = ["0x": 16, "0o": 8, "0b": 2]
    if let prefixRadix = prefixes[s.prefix(2).lowercased()], base == 0 || base == prefixRadix {
      radix = prefixRadix
      s = s.dropFirst(2)
      if s.first == "_" { s = s.dropFirst() }
    } else if base == 0 {
      radix = 10
      if s.count > 1 && s.first == "0" && s.contains(where: { $0 != "0" && $0 != "_" }) { return nil }
    }
    guard radix >= 2 && radix <= 36, let digits = removeUnderscores(String(s)), !digits.isEmpty,
      !digits.hasPrefix("-") && !digits.hasPrefix("+"), let magnitude = Int(digits, radix: radix)
    else { return nil }
    return negative ? -magnitude : magnitude
  }

  /// The text without underscores, or nil when one is not between two digits.
  private static func removeUnderscores(_ text: String) -> String? {
    let chars = Array(text)
    var out = ""
    for (index, c) in chars.enumerated() {
      if c == "_" {
        guard index > 0, index + 1 < chars.count, chars[index - 1].isHexDigit, chars[index + 1].isHexDigit else {
          return nil
        }
      } else {
        out.append(c)
      }
    }
    return out
  }
}
