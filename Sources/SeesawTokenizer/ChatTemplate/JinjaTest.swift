import Foundation

/// jinja2's builtin tests (`x is defined`, `n is divisibleby(3)`, `a is equalto b`), resolved at parse time.
enum JinjaTest: Sendable {
  case defined, undefined, none, boolean, isFalse, isTrue, integer, float, number, string, mapping, iterable
  case sequence, callable, sameas, escaped, contained, equal, notEqual, greater, greaterEqual, less, lessEqual
  case odd, even, divisibleby, lower, upper, filter, test

  init?(name: String) {
    let tests: [String: JinjaTest] = [
      "defined": .defined, "undefined": .undefined, "none": .none, "boolean": .boolean, "false": .isFalse,
      "true": .isTrue, "integer": .integer, "float": .float, "number": .number, "string": .string,
      "mapping": .mapping, "iterable": .iterable, "sequence": .sequence, "callable": .callable, "sameas": .sameas,
      "escaped": .escaped, "in": .contained, "==": .equal, "eq": .equal, "equalto": .equal, "!=": .notEqual,
      "ne": .notEqual, ">": .greater, "gt": .greater, "greaterthan": .greater, ">=": .greaterEqual,
      "ge": .greaterEqual, "<": .less, "lt": .less, "lessthan": .less, "<=": .lessEqual, "le": .lessEqual,
      "odd": .odd, "even": .even, "divisibleby": .divisibleby, "lower": .lower, "upper": .upper,
      "filter": .filter, "test": .test,
    ]
    guard let test = tests[name] else { return nil }
    self = test
  }
}

extension JinjaInterpreter {
  func runTest(_ test: JinjaTest, _ value: JinjaValue, _ arguments: JinjaArguments) throws -> Bool {
    /// The single argument of a comparison test (`x is divisibleby 3`).
    func operand() throws -> JinjaValue {
      try arguments.bind(["other"], required: 1, function: "\(test)")[0]!
    }
    switch test {
    case .defined: return !value.isUndefined
    case .undefined: return value.isUndefined
    case .none: return value == .none
    case .boolean:
      if case .bool = value { return true }
      return false
    case .isFalse: return value == .bool(false)
    case .isTrue: return value == .bool(true)
    case .integer:
      if case .int = value { return true }
      return false
    case .float:
      if case .double = value { return true }
      return false
    case .number: return value.numericValue != nil
    case .string:
      if case .string = value { return true }
      return false
    case .mapping:
      if case .object = value { return true }
      return false
    case .iterable, .sequence:
      // Undefined iterates as empty and has a length, so jinja2 counts it as both; iterators have no length.
      switch value {
      case .string, .array, .object, .undefined: return true
      case .generator: return test == .iterable
      default: return false
      }
    case .callable:
      if case .function = value { return true }
      return false
    case .sameas:
      let other = try operand()
      switch (value, other) {
      case (.none, .none): return true
      case (.bool(let a), .bool(let b)): return a == b
      case (.namespace(let a), .namespace(let b)): return a === b
      case (.function(let a), .function(let b)): return a === b
      case (.int(let a), .int(let b)): return a == b && a >= -5 && a <= 256
      default: return false
      }
    case .escaped: return false
    case .contained: return try JinjaOperators.contains(try operand(), value)
    case .equal: return JinjaOperators.looselyEquals(value, try operand())
    case .notEqual: return !JinjaOperators.looselyEquals(value, try operand())
    case .greater: return try JinjaOperators.order(value, try operand(), ">") > 0
    case .greaterEqual: return try JinjaOperators.order(value, try operand(), ">=") >= 0
    case .less: return try JinjaOperators.order(value, try operand(), "<") < 0
    case .lessEqual: return try JinjaOperators.order(value, try operand(), "<=") <= 0
    case .odd, .even:
      let remainder = try JinjaOperators.binary(.modulo, value, .int(2))
      return JinjaOperators.looselyEquals(remainder, .int(test == .odd ? 1 : 0))
    case .divisibleby:
      return JinjaOperators.looselyEquals(try JinjaOperators.binary(.modulo, value, try operand()), .int(0))
    case .lower: return PythonString.isLower(JinjaRepr.str(value))
    case .upper: return PythonString.isUpper(JinjaRepr.str(value))
    case .filter:
      guard case .string(let name) = value else { return false }
      return JinjaFilter(name: name) != nil
    case .test:
      guard case .string(let name) = value else { return false }
      return JinjaTest(name: name) != nil
    }
  }
}
