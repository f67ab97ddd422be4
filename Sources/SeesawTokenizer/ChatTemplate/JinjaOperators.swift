import Foundation

/// Python's operators on template values: int/float arithmetic, `+` on strings and lists, comparisons, `in`,
/// iteration and slicing. An undefined operand raises its hint, as jinja2's `Undefined` does.
enum JinjaOperators {
  /// The items a `for` loop visits: list items, a string's characters, a dict's keys; nothing for undefined.
  static func iterate(_ value: JinjaValue) throws -> [JinjaValue] {
    switch value {
    case .array(let items): return items
    case .object(let object): return object.keys.map { .string($0) }
    case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
    case .undefined: return []
    case .generator(let generator): return try generator.drain()
    default: throw JinjaRuntimeError.type("'\(value.typeName)' object is not iterable")
    }
  }

  /// A Python index (negative counts from the end) as an array position, nil when out of range.
  static func position(_ index: Int, count: Int) -> Int? {
    let position = index < 0 ? index + count : index
    return position >= 0 && position < count ? position : nil
  }

  /// `value[start:stop:step]` on a list or string, with Python's clamping.
  static func slice(_ value: JinjaValue, _ start: JinjaValue, _ stop: JinjaValue, _ step: JinjaValue) throws
    -> JinjaValue
  {
    func bound(_ v: JinjaValue) throws -> Int? {
      if case .none = v { return nil }
      guard let i = v.integerValue else {
        throw JinjaRuntimeError.type("slice indices must be integers or None or have an __index__ method")
      }
      return i
    }
    let stepValue = try bound(step) ?? 1
    guard stepValue != 0 else { throw JinjaRuntimeError.type("slice step cannot be zero") }
    func indices(_ count: Int) throws -> [Int] {
      func adjust(_ i: Int?, _ defaultValue: Int) -> Int {
        guard var i else { return defaultValue }
        if i < 0 { i += count }
        return stepValue > 0 ? min(max(i, 0), count) : min(max(i, -1), count - 1)
      }
      let first = adjust(try bound(start), stepValue > 0 ? 0 : count - 1)
      let end = adjust(try bound(stop), stepValue > 0 ? count : -1)
      return Array(stride(from: first, to: end, by: stepValue))
    }
    switch value {
    case .undefined(let hint): throw JinjaRuntimeError.undefined(hint)
    case .array(let items): return .array(try indices(items.count).map { items[$0] })
    case .string(let s):
      let scalars = Array(s.unicodeScalars)
      return .string(PythonString.fromScalars(try indices(scalars.count).map { scalars[$0] }))
    default: return .undefined(hint: "'\(JinjaInterpreter.typeDescription(value))' has no element slice")
    }
  }

  static func negate(_ value: JinjaValue) throws -> JinjaValue {
    switch value {
    case .int(let i): return .int(-i)
    case .bool(let b): return .int(b ? -1 : 0)
    case .double(let d): return .double(-d)
    case .undefined(let hint): throw JinjaRuntimeError.undefined(hint)
    default: throw JinjaRuntimeError.type("bad operand type for unary -: '\(value.typeName)'")
    }
  }

  static func binary(
    _ op: JinjaExpr.BinaryOperator, _ left: JinjaValue, _ right: JinjaValue, tupleOperand: Bool = false
  ) throws -> JinjaValue {
    if case .undefined(let hint) = left { throw JinjaRuntimeError.undefined(hint) }
    if case .undefined(let hint) = right { throw JinjaRuntimeError.undefined(hint) }
    if let a = left.integerValue, let b = right.integerValue {
      return try integerArithmetic(op, a, b)
    }
    if let a = left.numericValue, let b = right.numericValue {
      return try floatArithmetic(op, a, b)
    }
    switch (op, left, right) {
    case (.add, .string(let a), .string(let b)):
      try JinjaLimits.checkString("'+'", unit: a.utf8.count + b.utf8.count, count: 1)
      return .string(a + b)
    case (.add, .array(let a), .array(let b)):
      try JinjaLimits.checkItems("'+'", unit: a.count + b.count, count: 1)
      return .array(a + b)
    case (.multiply, .string(let s), _), (.multiply, _, .string(let s)):
      if let n = (left.integerValue ?? right.integerValue) {
        try JinjaLimits.checkString("'*'", unit: s.utf8.count, count: n)
        return .string(String(repeating: s, count: max(n, 0)))
      }
    case (.multiply, .array(let items), _), (.multiply, _, .array(let items)):
      if let n = (left.integerValue ?? right.integerValue) {
        try JinjaLimits.checkItems("'*'", unit: items.count, count: n)
        return .array(Array([[JinjaValue]](repeating: items, count: max(n, 0)).joined()))
      }
    case (.modulo, .string(let format), _):
      let arguments = tupleOperand ? try iterate(right) : [right]
      return .string(try PythonFormat.percent(format, arguments, mapping: tupleOperand ? .none : right))
    default:
      break
    }
    let symbol = [
      "+": JinjaExpr.BinaryOperator.add, "-": .subtract, "*": .multiply, "/": .divide,
      "//": .floorDivide, "%": .modulo, "**": .power,
    ].first { $0.value == op }!.key
    if op == .add, case .string = left {
      throw JinjaRuntimeError.type("can only concatenate str (not \"\(right.typeName)\") to str")
    }
    if op == .add, case .array = left {
      throw JinjaRuntimeError.type("can only concatenate list (not \"\(right.typeName)\") to list")
    }
    throw JinjaRuntimeError.type(
      "unsupported operand type(s) for \(symbol): '\(left.typeName)' and '\(right.typeName)'")
  }

  private static func integerArithmetic(_ op: JinjaExpr.BinaryOperator, _ a: Int, _ b: Int) throws -> JinjaValue {
    let overflow = JinjaRuntimeError(kind: .unsupported, message: "integers beyond 64 bits")
    switch op {
    case .add:
      let (result, over) = a.addingReportingOverflow(b)
      if over { throw overflow }
      return .int(result)
    case .subtract:
      let (result, over) = a.subtractingReportingOverflow(b)
      if over { throw overflow }
      return .int(result)
    case .multiply:
      let (result, over) = a.multipliedReportingOverflow(by: b)
      if over { throw overflow }
      return .int(result)
    case .divide:
      guard b != 0 else { throw JinjaRuntimeError.type("division by zero") }
      return .double(Double(a) / Double(b))
    case .floorDivide, .modulo:
      guard b != 0 else { throw JinjaRuntimeError.type("integer division or modulo by zero") }
      var quotient = a / b
      var remainder = a % b
      if remainder != 0 && ((remainder < 0) != (b < 0)) {
        quotient -= 1
        remainder += b
      }
      return .int(op == .floorDivide ? quotient : remainder)
    case .power:
      if b < 0 {
        guard a != 0 else { throw JinjaRuntimeError.type("0.0 cannot be raised to a negative power") }
        return .double(pow(Double(a), Double(b)))
      }
      var result = 1
      for _ in 0..<b {
        let (next, over) = result.multipliedReportingOverflow(by: a)
        if over { throw overflow }
        result = next
        if result == 0 || result == 1 { break }
      }
      return .int(result)
    }
  }

  private static func floatArithmetic(_ op: JinjaExpr.BinaryOperator, _ a: Double, _ b: Double) throws -> JinjaValue {
    switch op {
    case .add: return .double(a + b)
    case .subtract: return .double(a - b)
    case .multiply: return .double(a * b)
    case .divide:
      guard b != 0 else { throw JinjaRuntimeError.type("float division by zero") }
      return .double(a / b)
    case .floorDivide, .modulo:
      guard b != 0 else { throw JinjaRuntimeError.type("float floor division by zero") }
      // CPython's float_divmod, so signs and rounding match Python.
      var mod = fmod(a, b)
      var div = (a - mod) / b
      if mod != 0 {
        if (b < 0) != (mod < 0) {
          mod += b
          div -= 1
        }
      } else {
        mod = copysign(0, b)
      }
      var floorDiv: Double
      if div != 0 {
        floorDiv = div.rounded(.down)
        if div - floorDiv > 0.5 { floorDiv += 1 }
      } else {
        floorDiv = copysign(0, a / b)
      }
      return .double(op == .floorDivide ? floorDiv : mod)
    case .power:
      if a == 0 && b < 0 { throw JinjaRuntimeError.type("0.0 cannot be raised to a negative power") }
      let result = pow(a, b)
      if result.isInfinite && a.isFinite && b.isFinite {
        throw JinjaRuntimeError.type("(34, 'Numerical result out of range')")
      }
      return .double(result)
    }
  }
}
