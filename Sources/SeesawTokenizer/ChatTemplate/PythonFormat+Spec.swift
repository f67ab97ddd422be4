import Foundation

/// Python's format-spec mini-language, `[[fill]align][sign][#][0][width][,|_][.precision][type]`, for strings,
/// integers and floats.
extension PythonFormat {
  /// The largest width or precision a format spec may give. Python refuses numbers past sys.maxsize ("Too many
  /// decimal digits in format string") and runs out of memory on the largest others; a template has no use for
  /// padding of more than a million characters, so those are refused too (fuzzing found a width that overflowed Int).
  static let maxWidth = 1 << 20

  /// The decimal digits at the front of `chars` (a width or precision; 0 when there are none), removed from it.
  static func number(_ chars: inout [Character]) throws -> Int {
    var value = 0
    while let first = chars.first, let digit = first.wholeNumberValue, (0...9).contains(digit) {
      value = value * 10 + digit
      guard value <= maxWidth else { throw JinjaRuntimeError.type("Too many decimal digits in format string") }
      chars.removeFirst()
    }
    return value
  }

  static func apply(_ spec: String, to value: JinjaValue) throws -> String {
    if spec.isEmpty { return JinjaRepr.str(value) }
    var chars = Array(spec)
    var fill: Character = " "
    var align: Character? = nil
    if chars.count >= 2 && "<>=^".contains(chars[1]) {
      fill = chars[0]
      align = chars[1]
      chars.removeFirst(2)
    } else if let first = chars.first, "<>=^".contains(first) {
      align = first
      chars.removeFirst()
    }
    var sign: Character = "-"
    if let first = chars.first, "+- ".contains(first) {
      sign = first
      chars.removeFirst()
    }
    var alternate = false
    if chars.first == "#" {
      alternate = true
      chars.removeFirst()
    }
    if chars.first == "0" {
      if align == nil {
        fill = "0"
        align = "="
      }
      chars.removeFirst()
    }
    let width = try number(&chars)
    var grouping: Character? = nil
    if let first = chars.first, first == "," || first == "_" {
      grouping = first
      chars.removeFirst()
    }
    var precision: Int? = nil
    if chars.first == "." {
      chars.removeFirst()
      precision = try number(&chars)
    }
    guard chars.count <= 1 else { throw JinjaRuntimeError.type("Invalid format specifier '\(spec)'") }
    let type = chars.first

    var body: String
    var negative = false
    var isNumber = true
    switch value {
    case .string(let s):
      guard type == nil || type == "s" else {
        throw JinjaRuntimeError.type("Unknown format code '\(type!)' for object of type 'str'")
      }
      body = precision.map { PythonString.fromScalars(s.unicodeScalars.prefix($0)) } ?? s
      isNumber = false
    case .int, .bool:
      if let type, "eEfFgG%".contains(type) { return try apply(spec, to: .double(value.numericValue!)) }
      if case .bool = value, type == nil { return try apply(spec, to: .string(JinjaRepr.str(value))) }
      let number = value.integerValue!
      negative = number < 0
      let magnitude = number.magnitude
      switch type {
      case nil, "d", "n": body = String(magnitude)
      case "b": body = (alternate ? "0b" : "") + String(magnitude, radix: 2)
      case "o": body = (alternate ? "0o" : "") + String(magnitude, radix: 8)
      case "x": body = (alternate ? "0x" : "") + String(magnitude, radix: 16)
      case "X": body = (alternate ? "0X" : "") + String(magnitude, radix: 16).uppercased()
      case "c": body = Unicode.Scalar(UInt32(number)).map { String($0) } ?? ""
      default: throw JinjaRuntimeError.type("Unknown format code '\(type!)' for object of type 'int'")
      }
    case .double(let d):
      negative = d < 0 || (d == 0 && d.sign == .minus)
      let magnitude = abs(d)
      switch type {
      case nil:
        body = precision.map { String(format: "%.\(max($0, 1))g", magnitude) } ?? JinjaRepr.repr(.double(magnitude))
      case "f", "F": body = String(format: "%.\(precision ?? 6)f", magnitude)
      case "e", "E", "g", "G": body = String(format: "%.\(precision ?? 6)\(type!)", magnitude)
      case "%": body = String(format: "%.\(precision ?? 6)f", magnitude * 100) + "%"
      default: throw JinjaRuntimeError.type("Unknown format code '\(type!)' for object of type 'float'")
      }
      if type == "F" || type == "E" || type == "G" { body = body.uppercased() }
    default:
      throw JinjaRuntimeError.type("unsupported format string passed to \(value.typeName).__format__")
    }

    if let grouping, isNumber {
      let integerPart = body.prefix { $0.isNumber }
      var grouped = ""
      for (index, digit) in integerPart.enumerated() {
        if index > 0 && (integerPart.count - index) % 3 == 0 { grouped.append(grouping) }
        grouped.append(digit)
      }
      body = grouped + body.dropFirst(integerPart.count)
    }
    let signText = !isNumber ? "" : negative ? "-" : sign == "+" ? "+" : sign == " " ? " " : ""
    let length = PythonString.codePointCount(signText + body)
    let padding = String(repeating: fill, count: max(0, width - length))
    switch align ?? (isNumber ? ">" : "<") {
    case "<": return signText + body + padding
    case "^":
      let left = padding.count / 2
      return String(padding.prefix(left)) + signText + body + String(padding.dropFirst(left))
    case "=": return signText + padding + body
    default: return padding + signText + body
    }
  }
}
