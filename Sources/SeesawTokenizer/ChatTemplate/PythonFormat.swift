import Foundation

/// Python's two string formatting languages, as far as templates use them: `'%s: %d' % (a, b)` (and the
/// `format` filter) and `'{}: {:>4}'.format(a, b)`.
enum PythonFormat {
  /// `format % arguments`; `mapping` is the right operand itself, for `%(name)s`.
  static func percent(_ format: String, _ arguments: [JinjaValue], mapping: JinjaValue) throws -> String {
    let scalars = Array(format.unicodeScalars)
    var out = ""
    var next = 0
    var i = 0
    var usedMapping = false
    func take() throws -> JinjaValue {
      guard next < arguments.count else { throw JinjaRuntimeError.type("not enough arguments for format string") }
      next += 1
      return arguments[next - 1]
    }
    while i < scalars.count {
      let c = scalars[i]
      i += 1
      guard c == "%" else {
        out.unicodeScalars.append(c)
        continue
      }
      guard i < scalars.count else { throw JinjaRuntimeError.type("incomplete format") }
      var value: JinjaValue? = nil
      if scalars[i] == "(" {
        guard let close = scalars[i...].firstIndex(of: ")") else {
          throw JinjaRuntimeError.type("incomplete format key")
        }
        let key = PythonString.fromScalars(scalars[(i + 1)..<close])
        guard case .object(let object) = mapping else { throw JinjaRuntimeError.type("format requires a mapping") }
        guard let found = object[key] else { throw JinjaRuntimeError.type("KeyError: '\(key)'") }
        value = found
        usedMapping = true
        i = close + 1
      }
      var flags = ""
      while i < scalars.count, "-+ #0".unicodeScalars.contains(scalars[i]) {
        flags.unicodeScalars.append(scalars[i])
        i += 1
      }
      var width = ""
      while i < scalars.count, JinjaLexer.isDigit(scalars[i]) || scalars[i] == "*" {
        if scalars[i] == "*" {
          width += String(try take().requireInt("* width"))
        } else {
          width.unicodeScalars.append(scalars[i])
        }
        i += 1
      }
      var precision: Int? = nil
      if i < scalars.count && scalars[i] == "." {
        i += 1
        var digits = ""
        while i < scalars.count, JinjaLexer.isDigit(scalars[i]) {
          digits.unicodeScalars.append(scalars[i])
          i += 1
        }
        var rest = Array(digits)
        precision = try number(&rest)
      }
      while i < scalars.count, "hlL".unicodeScalars.contains(scalars[i]) { i += 1 }
      guard i < scalars.count else { throw JinjaRuntimeError.type("incomplete format") }
      let conversion = Character(scalars[i])
      i += 1
      if conversion == "%" {
        out += "%"
        continue
      }
      let argument = try value ?? take()
      var spec = ""
      if flags.contains("-") {
        spec += "<"
      } else if flags.contains("0") && conversion != "s" && conversion != "r" {
        spec += "0="
      }
      if flags.contains("+") { spec += "+" } else if flags.contains(" ") { spec += " " }
      if flags.contains("#") { spec += "#" }
      spec += width
      switch conversion {
      case "s", "r", "a":
        let text = conversion == "s" ? JinjaRepr.str(argument) : JinjaRepr.repr(argument)
        out += try apply(
          String(spec.drop { $0 == "0" || $0 == "=" }) + (precision.map { ".\($0)" } ?? ""), to: .string(text))
      case "d", "i", "u":
        guard let number = argument.numericValue else {
          throw JinjaRuntimeError.type("%\(conversion) format: a real number is required, not \(argument.typeName)")
        }
        out += try apply(spec + "d", to: .int(try argument.integerValue ?? JinjaValue.integer(from: number)))
      default:
        guard let number = argument.numericValue else {
          throw JinjaRuntimeError.type("must be real number, not \(argument.typeName)")
        }
        let type = conversion == "c" ? "c" : String(conversion)
        let converted: JinjaValue =
          "xXoc".contains(conversion) ? .int(try argument.integerValue ?? JinjaValue.integer(from: number)) : .double(number)
        out += try apply(
          spec + (precision.map { ".\($0)" } ?? (("eEfFgG".contains(conversion)) ? ".6" : "")) + type, to: converted)
      }
    }
    let isMapping: Bool
    switch mapping {
    case .object, .array: isMapping = true
    default: isMapping = false
    }
    if next < arguments.count && !usedMapping && !(isMapping && arguments.count == 1) {
      throw JinjaRuntimeError.type("not all arguments converted during string formatting")
    }
    return out
  }

  /// `format.format(*positional, **keywords)`: `{}`, `{0}`, `{name}`, `{0.attr}`, `{0[key]}`, `!r`, `:spec`.
  static func format(_ format: String, _ arguments: JinjaArguments) throws -> String {
    let scalars = Array(format.unicodeScalars)
    var out = ""
    var automatic = 0
    var i = 0
    while i < scalars.count {
      let c = scalars[i]
      if c == "}" {
        guard i + 1 < scalars.count, scalars[i + 1] == "}" else {
          throw JinjaRuntimeError.type("Single '}' encountered in format string")
        }
        out += "}"
        i += 2
        continue
      }
      guard c == "{" else {
        out.unicodeScalars.append(c)
        i += 1
        continue
      }
      if i + 1 < scalars.count && scalars[i + 1] == "{" {
        out += "{"
        i += 2
        continue
      }
      guard let close = scalars[i...].firstIndex(of: "}") else {
        throw JinjaRuntimeError.type("expected '}' before end of string")
      }
      var field = PythonString.fromScalars(scalars[(i + 1)..<close])
      i = close + 1
      var spec = ""
      if let colon = field.firstIndex(of: ":") {
        spec = String(field[field.index(after: colon)...])
        field = String(field[..<colon])
      }
      var conversion: Character? = nil
      if let bang = field.firstIndex(of: "!") {
        conversion = field[field.index(after: bang)...].first
        field = String(field[..<bang])
      }
      let head = field.prefix { $0 != "." && $0 != "[" }
      var value: JinjaValue
      if head.isEmpty {
        guard automatic < arguments.positional.count else {
          throw JinjaRuntimeError.type("Replacement index \(automatic) out of range for positional args tuple")
        }
        value = arguments.positional[automatic]
        automatic += 1
      } else if let index = Int(head) {
        guard index < arguments.positional.count else {
          throw JinjaRuntimeError.type("Replacement index \(index) out of range for positional args tuple")
        }
        value = arguments.positional[index]
      } else {
        guard let found = arguments.keywords.first(where: { $0.0 == head })?.1 else {
          throw JinjaRuntimeError.type("KeyError: '\(head)'")
        }
        value = found
      }
      var rest = field.dropFirst(head.count)
      while let first = rest.first {
        rest = rest.dropFirst()
        let name = rest.prefix { $0 != "." && $0 != "[" && $0 != "]" }
        rest = rest.dropFirst(name.count)
        if first == "[" {
          rest = rest.drop { $0 == "]" }
          value = try JinjaInterpreter.item(value, Int(name).map { .int($0) } ?? .string(String(name)))
        } else {
          value = try JinjaInterpreter.attribute(value, String(name))
        }
      }
      if conversion == "r" || conversion == "a" { value = .string(JinjaRepr.repr(value)) }
      if conversion == "s" { value = .string(JinjaRepr.str(value)) }
      out += try apply(spec, to: value)
    }
    return out
  }
}
