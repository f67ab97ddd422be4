import Foundation

/// Python's `str()` and `repr()` of template values: what `{{ value }}` prints.
///
/// `{{ none }}` is `None`, `{{ true }}` is `True`, `{{ 2.0 }}` is `2.0`, `{{ ['a', 1] }}` is `['a', 1]`,
/// `{{ {'k': none} }}` is `{'k': None}`. Undefined prints as nothing.
enum JinjaRepr {
  static func str(_ value: JinjaValue) -> String {
    switch value {
    case .string(let s): return s
    case .undefined: return ""
    default: return repr(value)
    }
  }

  static func appendStr(_ value: JinjaValue, to out: inout String) {
    switch value {
    case .string(let s): out += s
    case .undefined: break
    default: appendRepr(value, to: &out)
    }
  }

  static func repr(_ value: JinjaValue) -> String {
    var out = ""
    appendRepr(value, to: &out)
    return out
  }

  static func appendRepr(_ value: JinjaValue, to out: inout String) {
    switch value {
    case .none: out += "None"
    case .bool(let b): out += b ? "True" : "False"
    case .int(let i): out += String(i)
    case .double(let d): out += d.description
    case .string(let s): appendStringRepr(s, to: &out)
    case .array(let items):
      out += "["
      for (index, item) in items.enumerated() {
        if index > 0 { out += ", " }
        appendRepr(item, to: &out)
      }
      out += "]"
    case .object(let object): appendObjectRepr(object, to: &out)
    case .undefined: out += "Undefined"
    case .namespace(let namespace):
      out += "<Namespace "
      appendObjectRepr(namespace.attributes, to: &out)
      out += ">"
    case .function(let function): out += "<function \(function.name)>"
    case .generator(let generator):
      out +=
        generator.typeName == "generator"
        ? "<generator object \(generator.function)>" : "<\(generator.typeName) object>"
    }
  }

  private static func appendObjectRepr(_ object: JinjaObject, to out: inout String) {
    out += "{"
    for (index, (key, item)) in object.pairs.enumerated() {
      if index > 0 { out += ", " }
      appendStringRepr(key, to: &out)
      out += ": "
      appendRepr(item, to: &out)
    }
    out += "}"
  }

  /// Single quotes unless the text has a `'` and no `"`; escapes as CPython's `unicode_repr`.
  static func appendStringRepr(_ s: String, to out: inout String) {
    let scalars = s.unicodeScalars
    let quote: Unicode.Scalar = scalars.contains("'") && !scalars.contains("\"") ? "\"" : "'"
    var view = String.UnicodeScalarView()
    view.append(quote)
    for c in scalars {
      switch c {
      case quote, "\\":
        view.append("\\")
        view.append(c)
      case "\t": view.append(contentsOf: "\\t".unicodeScalars)
      case "\n": view.append(contentsOf: "\\n".unicodeScalars)
      case "\r": view.append(contentsOf: "\\r".unicodeScalars)
      default:
        if c.value < 0x20 || c.value == 0x7F || (c.value >= 0x80 && !isPrintable(c)) {
          let hex = String(c.value, radix: 16)
          let (prefix, width) = c.value <= 0xFF ? ("\\x", 2) : c.value <= 0xFFFF ? ("\\u", 4) : ("\\U", 8)
          view.append(contentsOf: (prefix + String(repeating: "0", count: width - hex.count) + hex).unicodeScalars)
        } else {
          view.append(c)
        }
      }
    }
    view.append(quote)
    out += String(view)  // not out.unicodeScalars.append(contentsOf:), which copies all of out each time
  }

  /// Python's `str.isprintable` for one character: not a control, format, surrogate, private-use, unassigned
  /// or separator character (the ASCII space excepted).
  static func isPrintable(_ c: Unicode.Scalar) -> Bool {
    if c == " " { return true }
    switch c.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
      .spaceSeparator:
      return false
    default: return true
    }
  }
}
