import Foundation

/// transformers' `tojson` filter, which is Python's `json.dumps(x, ensure_ascii=False, indent=..., separators=...,
/// sort_keys=...)` (not jinja2's HTML-escaping one), and a JSON reader that keeps key order and tells `1` from `1.0`.
enum JinjaJSON {
  struct Options {
    var ensureASCII = false
    /// nil: everything on one line; otherwise a newline and this much indentation per level.
    var indent: String? = nil
    var itemSeparator = ", "
    var keySeparator = ": "
    var sortKeys = false

    init() {}

    /// From the filter's (ensure_ascii, indent, separators, sort_keys) arguments.
    init(_ bound: [JinjaValue?]) throws {
      ensureASCII = bound[0]?.isTruthy ?? false
      switch bound[1] {
      case nil, .none?: indent = nil
      case .string(let s)?: indent = s
      case let value?:
        let width = try value.requireInt("indent")
        try JinjaLimits.checkString("tojson indent", unit: 1, count: width)
        indent = String(repeating: " ", count: max(0, width))
      }
      if indent != nil { itemSeparator = "," }
      if let separators = bound[2], separators != .none {
        let parts = try JinjaOperators.iterate(separators)
        guard parts.count == 2, case .string(let item) = parts[0], case .string(let key) = parts[1] else {
          throw JinjaRuntimeError.type("separators must be a pair of strings")
        }
        itemSeparator = item
        keySeparator = key
      }
      sortKeys = bound[3]?.isTruthy ?? false
    }
  }

  static func encode(_ value: JinjaValue, options: Options = Options()) throws -> String {
    var out = ""
    try write(value, options, level: 0, to: &out)
    return out
  }

  private static func write(_ value: JinjaValue, _ options: Options, level: Int, to out: inout String) throws {
    switch value {
    case .none: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d):
      out += d.isNaN ? "NaN" : d.isInfinite ? (d < 0 ? "-Infinity" : "Infinity") : d.description
    case .string(let s): writeString(s, ascii: options.ensureASCII, to: &out)
    case .array(let items):
      guard !items.isEmpty else {
        out += "[]"
        return
      }
      out += "["
      for (index, item) in items.enumerated() {
        if index > 0 { out += options.itemSeparator }
        newline(options, level + 1, &out)
        try write(item, options, level: level + 1, to: &out)
      }
      newline(options, level, &out)
      out += "]"
    case .object(let object):
      guard !object.isEmpty else {
        out += "{}"
        return
      }
      out += "{"
      let keys = options.sortKeys ? object.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } : object.keys
      for (index, key) in keys.enumerated() {
        if index > 0 { out += options.itemSeparator }
        newline(options, level + 1, &out)
        writeString(key, ascii: options.ensureASCII, to: &out)
        out += options.keySeparator
        try write(object[key]!, options, level: level + 1, to: &out)
      }
      newline(options, level, &out)
      out += "}"
    case .undefined, .namespace, .function, .generator:
      let name = value.isUndefined ? "Undefined" : value.typeName
      throw JinjaRuntimeError.type("Object of type \(name) is not JSON serializable")
    }
  }

  private static func newline(_ options: Options, _ level: Int, _ out: inout String) {
    guard let indent = options.indent else { return }
    out += "\n"
    for _ in 0..<level { out += indent }
  }

  /// A JSON string literal with Python's escapes; `ascii` also escapes everything past `~` as `\uXXXX`.
  static func writeString(_ s: String, ascii: Bool, to out: inout String) {
    var view = String.UnicodeScalarView()
    view.append("\"")
    func escapeUnit(_ unit: UInt32) {
      let hex = String(unit, radix: 16)
      view.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
    }
    for c in s.unicodeScalars {
      switch c {
      case "\"": view.append(contentsOf: "\\\"".unicodeScalars)
      case "\\": view.append(contentsOf: "\\\\".unicodeScalars)
      case "\n": view.append(contentsOf: "\\n".unicodeScalars)
      case "\r": view.append(contentsOf: "\\r".unicodeScalars)
      case "\t": view.append(contentsOf: "\\t".unicodeScalars)
      case "\u{08}": view.append(contentsOf: "\\b".unicodeScalars)
      case "\u{0C}": view.append(contentsOf: "\\f".unicodeScalars)
      default:
        if c.value < 0x20 || (ascii && c.value > 0x7E) {
          if c.value > 0xFFFF {
            let v = c.value - 0x10000
            escapeUnit(0xD800 + (v >> 10))
            escapeUnit(0xDC00 + (v & 0x3FF))
          } else {
            escapeUnit(c.value)
          }
        } else {
          view.append(c)
        }
      }
    }
    view.append("\"")
    out += String(view)  // not out.unicodeScalars.append(contentsOf:), which copies all of out each time
  }
}
