import Foundation

/// Python's `==`, ordering and `in`: numbers compare across int, float and bool; strings by code point; lists
/// item by item; ordering other mixes raises TypeError.
extension JinjaOperators {
  static func compare(_ op: JinjaExpr.CompareOperator, _ left: JinjaValue, _ right: JinjaValue) throws -> Bool {
    switch op {
    case .equal: return looselyEquals(left, right)
    case .notEqual: return !looselyEquals(left, right)
    case .less: return try order(left, right, "<") < 0
    case .lessEqual: return try order(left, right, "<=") <= 0
    case .greater: return try order(left, right, ">") > 0
    case .greaterEqual: return try order(left, right, ">=") >= 0
    case .contains: return try contains(right, left)
    case .notContains: return !(try contains(right, left))
    }
  }

  static func looselyEquals(_ left: JinjaValue, _ right: JinjaValue) -> Bool {
    switch (left, right) {
    case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
    case (.array(let a), .array(let b)):
      return a.count == b.count && zip(a, b).allSatisfy { looselyEquals($0, $1) }
    case (.object(let a), .object(let b)):
      return a.count == b.count
        && a.pairs.allSatisfy { pair in b[pair.key].map { looselyEquals(pair.value, $0) } ?? false }
    case (.none, .none), (.undefined, .undefined): return true
    case (.namespace(let a), .namespace(let b)): return a === b
    case (.function(let a), .function(let b)): return a === b
    case (.generator(let a), .generator(let b)): return a === b
    default:
      if let a = left.integerValue, let b = right.integerValue { return a == b }
      if let a = left.numericValue, let b = right.numericValue { return a == b }
      return false
    }
  }

  /// -1, 0 or 1 as Python orders the two values, or TypeError when it cannot (`'a' < 1`, `None < 1`).
  /// NaN compares as unordered: neither less, equal nor greater, so every ordering test is false.
  static func order(_ left: JinjaValue, _ right: JinjaValue, _ symbol: String) throws -> Int {
    if case .undefined(let hint) = left { throw JinjaRuntimeError.undefined(hint) }
    if case .undefined(let hint) = right { throw JinjaRuntimeError.undefined(hint) }
    switch (left, right) {
    case (.string(let a), .string(let b)):
      return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : a.utf8.elementsEqual(b.utf8) ? 0 : 1
    case (.array(let a), .array(let b)):
      for (x, y) in zip(a, b) where !looselyEquals(x, y) { return try order(x, y, symbol) }
      return a.count < b.count ? -1 : a.count == b.count ? 0 : 1
    default:
      if let a = left.integerValue, let b = right.integerValue { return a < b ? -1 : a == b ? 0 : 1 }
      if let a = left.numericValue, let b = right.numericValue {
        if a.isNaN || b.isNaN { return symbol.hasPrefix("<") ? 1 : -1 }
        return a < b ? -1 : a == b ? 0 : 1
      }
      throw JinjaRuntimeError.type(
        "'\(symbol)' not supported between instances of '\(left.typeName)' and '\(right.typeName)'")
    }
  }

  /// Python's `item in container`.
  static func contains(_ container: JinjaValue, _ item: JinjaValue) throws -> Bool {
    switch container {
    case .string(let s):
      guard case .string(let needle) = item else {
        throw JinjaRuntimeError.type("'in <string>' requires string as left operand, not \(item.typeName)")
      }
      return PythonString.contains(s, needle)
    case .array(let items):
      return items.contains { looselyEquals($0, item) }
    case .object(let object):
      switch item {
      case .string(let key): return object[key] != nil
      case .array, .object: throw JinjaRuntimeError.type("unhashable type: '\(item.typeName)'")
      default: return false
      }
    case .undefined:
      return false
    case .generator(let generator):
      // Python's `in` reads the iterator up to the first match.
      while let next = try generator.next() {
        if looselyEquals(next, item) { return true }
      }
      return false
    default:
      throw JinjaRuntimeError.type("argument of type '\(container.typeName)' is not iterable")
    }
  }
}
