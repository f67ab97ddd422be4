import Foundation

/// Expression evaluation with jinja2's lookup rules: `a.b` and `a['b']` try attribute and item in opposite orders,
/// and anything missing becomes undefined rather than an error.
extension JinjaInterpreter {
  func eval(_ expr: JinjaExpr, _ scope: JinjaScope) throws -> JinjaValue {
    switch expr {
    case .constant(let value):
      return value
    case .name(let name):
      return scope.lookup(name) ?? .undefined(name: name)
    case .attribute(let base, let name):
      return try JinjaInterpreter.attribute(try eval(base, scope), name)
    case .item(let base, let index):
      return try JinjaInterpreter.item(try eval(base, scope), try eval(index, scope))
    case .slice(let base, let start, let stop, let step):
      let value = try eval(base, scope)
      let bounds = try [start, stop, step].map { try $0.map { try eval($0, scope) } ?? JinjaValue.none }
      return try JinjaOperators.slice(value, bounds[0], bounds[1], bounds[2])
    case .list(let items), .tuple(let items):
      return .array(try items.map { try eval($0, scope) })
    case .dict(let pairs):
      var object = JinjaObject()
      for (keyExpr, valueExpr) in pairs {
        guard case .string(let key) = try eval(keyExpr, scope) else {
          throw JinjaRuntimeError(kind: .unsupported, message: "dict keys that are not strings")
        }
        object[key] = try eval(valueExpr, scope)
      }
      return .object(object)
    case .negate(let operand):
      return try JinjaOperators.negate(try eval(operand, scope))
    case .plus(let operand):
      let value = try eval(operand, scope)
      if case .undefined(let hint) = value { throw JinjaRuntimeError.undefined(hint) }
      guard value.numericValue != nil else {
        throw JinjaRuntimeError.type("bad operand type for unary +: '\(value.typeName)'")
      }
      if case .bool(let b) = value { return .int(b ? 1 : 0) }
      return value
    case .not(let operand):
      return .bool(!(try eval(operand, scope).isTruthy))
    case .binary(let op, let left, let right):
      var isTuple = false
      if case .tuple = right { isTuple = true }
      return try JinjaOperators.binary(op, try eval(left, scope), try eval(right, scope), tupleOperand: isTuple)
    case .and(let left, let right):
      let value = try eval(left, scope)
      return value.isTruthy ? try eval(right, scope) : value
    case .or(let left, let right):
      let value = try eval(left, scope)
      return value.isTruthy ? value : try eval(right, scope)
    case .compare(let first, let operations):
      var left = try eval(first, scope)
      for (op, operand) in operations {
        let right = try eval(operand, scope)
        if !(try JinjaOperators.compare(op, left, right)) { return .bool(false) }
        left = right
      }
      return .bool(true)
    case .concat(let parts):
      var text = ""
      for part in parts {
        JinjaRepr.appendStr(try eval(part, scope), to: &text)
        try JinjaLimits.checkString("'~'", unit: text.utf8.count, count: 1)
      }
      return .string(text)
    case .conditional(let test, let then, let otherwise, let line):
      if try eval(test, scope).isTruthy { return try eval(then, scope) }
      if let otherwise { return try eval(otherwise, scope) }
      return .undefined(
        hint: "the inline if-expression on line \(line) evaluated to false and no else section was defined.")
    case .call(let callee, let argumentExprs):
      if case .attribute(let baseExpr, let name) = callee {
        let base = try eval(baseExpr, scope)
        if case .undefined(let hint) = base { throw JinjaRuntimeError.undefined(hint) }
        let arguments = try evalArguments(argumentExprs, scope)
        if let result = try JinjaMethods.call(base, name, arguments, self) { return result }
        return try call(try JinjaInterpreter.attribute(base, name), arguments)
      }
      let function = try eval(callee, scope)
      return try call(function, try evalArguments(argumentExprs, scope))
    case .filter(let valueExpr, let call):
      let value = try valueExpr.map { try eval($0, scope) } ?? JinjaValue.none
      guard let filter = call.filter else { throw JinjaFilter.missing(call.name) }
      return try applyFilter(filter, value, try evalArguments(call.arguments, scope))
    case .test(let valueExpr, let call):
      let value = try eval(valueExpr, scope)
      guard let test = call.test else { throw JinjaRuntimeError(kind: .unknownTest, message: call.name) }
      return .bool(try runTest(test, value, try evalArguments(call.arguments, scope)))
    }
  }

  /// Filters of `{% set x | f %}` and `{% filter f %}`, applied in order to the rendered body.
  func applyFilters(_ filters: [JinjaFilterCall], to value: JinjaValue, _ scope: JinjaScope) throws -> JinjaValue {
    var result = value
    for call in filters {
      guard let filter = call.filter else { throw JinjaFilter.missing(call.name) }
      result = try applyFilter(filter, result, try evalArguments(call.arguments, scope))
    }
    return result
  }

  func evalArguments(_ arguments: JinjaCallArguments, _ scope: JinjaScope) throws -> JinjaArguments {
    var result = JinjaArguments(try arguments.positional.map { try eval($0, scope) })
    result.keywords = try arguments.keywords.map { ($0.0, try eval($0.1, scope)) }
    if let splat = arguments.splat {
      result.positional += try JinjaOperators.iterate(try eval(splat, scope))
    }
    if let splat = arguments.keywordSplat {
      guard case .object(let object) = try eval(splat, scope) else {
        throw JinjaRuntimeError.type("argument after ** must be a mapping")
      }
      result.keywords += object.pairs.map { ($0.key, $0.value) }
    }
    return result
  }

  func call(_ function: JinjaValue, _ arguments: JinjaArguments) throws -> JinjaValue {
    switch function {
    case .function(let function):
      return try function.body(self, arguments)
    case .undefined(let hint):
      // The sandbox hands back an undefined for unsafe attributes (`list.append`); calling it is a SecurityError.
      if hint.hasPrefix("access to attribute") { throw JinjaRuntimeError.type(hint) }
      throw JinjaRuntimeError.undefined(hint)
    default:
      throw JinjaRuntimeError.type("'\(function.typeName)' object is not callable")
    }
  }

  /// How jinja2 names a value's type in "has no attribute" hints.
  static func typeDescription(_ value: JinjaValue) -> String {
    if case .none = value { return "None" }
    return "\(value.typeName) object"
  }

  /// `value.name`: a method of the value's type, else its item `name`, else undefined.
  static func attribute(_ value: JinjaValue, _ name: String) throws -> JinjaValue {
    if case .undefined(let hint) = value { throw JinjaRuntimeError.undefined(hint) }
    if let method = JinjaMethods.bound(value, name) { return method }
    switch value {
    case .object(let object):
      if let found = object[name] { return found }
    case .namespace(let namespace):
      if let found = namespace.attributes[name] { return found }
    default:
      break
    }
    return .undefined(hint: "'\(typeDescription(value))' has no attribute '\(name)'")
  }

  /// `value[index]`: the item, else (for string keys) a method of that name, else undefined.
  static func item(_ value: JinjaValue, _ index: JinjaValue) throws -> JinjaValue {
    switch (value, index) {
    case (.undefined(let hint), _):
      throw JinjaRuntimeError.undefined(hint)
    case (.object(let object), .string(let key)):
      if let found = object[key] { return found }
    case (.namespace(let namespace), .string(let key)):
      if let found = namespace.attributes[key] { return found }
    case (.array(let items), _):
      if let i = index.integerValue, let position = JinjaOperators.position(i, count: items.count) {
        return items[position]
      }
    case (.string(let s), _):
      if let i = index.integerValue {
        let scalars = Array(s.unicodeScalars)
        if let position = JinjaOperators.position(i, count: scalars.count) {
          return .string(String(scalars[position]))
        }
      }
    default:
      break
    }
    if case .string(let name) = index {
      if let method = JinjaMethods.bound(value, name) { return method }
      return .undefined(hint: "'\(typeDescription(value))' has no attribute '\(name)'")
    }
    return .undefined(hint: "'\(typeDescription(value))' has no element \(JinjaRepr.repr(index))")
  }
}
