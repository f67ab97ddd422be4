import Foundation

/// A value inside a chat template: what `messages`, `tools` and the template's own literals become.
///
/// The first seven cases are plain data, as JSON or Python would hold it (Python's `True` is `.bool(true)`, its
/// `None` is `.none`). The last three only appear while a template runs: names that resolve to nothing
/// (jinja2's `Undefined`), `namespace(...)` objects and callables (macros, `raise_exception`, bound methods).
public enum JinjaValue: Sendable {
  case none
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case array([JinjaValue])
  /// A dictionary that keeps its keys in insertion order, as Python's `dict` does (`tojson`, `items()`).
  case object(JinjaObject)
  /// A missing variable, key or attribute. It prints as nothing and is false; most other uses raise `hint`.
  case undefined(hint: String)
  /// A `namespace(...)` object: the one mutable value, shared by reference, so loops can update it.
  case namespace(JinjaNamespace)
  /// A macro, a global function or a bound method (`'abc'.upper`).
  case function(JinjaFunction)
  /// What jinja2's `map`, `select`, `selectattr`, `unique`, `batch`, `items` and `reverse` return: a one-shot
  /// iterator, always true, without a length, emptied by the first loop or filter that reads it.
  case generator(JinjaGenerator)

  /// An undefined value for a variable name that does not exist, with jinja2's message.
  static func undefined(name: String) -> JinjaValue { .undefined(hint: "'\(name)' is undefined") }

  /// Python's truth value: empty strings, containers and zero are false; undefined is false.
  var isTruthy: Bool {
    switch self {
    case .none, .undefined: return false
    case .bool(let b): return b
    case .int(let i): return i != 0
    case .double(let d): return d != 0
    case .string(let s): return !s.isEmpty
    case .array(let a): return !a.isEmpty
    case .object(let o): return !o.isEmpty
    case .namespace, .function, .generator: return true
    }
  }

  var isUndefined: Bool {
    if case .undefined = self { return true }
    return false
  }

  /// The number as a Double when this is `int`, `double` or `bool` (Python's bool is an int).
  var numericValue: Double? {
    switch self {
    case .int(let i): return Double(i)
    case .double(let d): return d
    case .bool(let b): return b ? 1 : 0
    default: return nil
    }
  }

  /// The integer when this is `int` or `bool`.
  var integerValue: Int? {
    switch self {
    case .int(let i): return i
    case .bool(let b): return b ? 1 : 0
    default: return nil
    }
  }

  /// A float's integer part as Python's int() takes it, or the error Python raises; floats past Int's range, which
  /// Python would turn into big integers, are refused (found by fuzzing: `'%d' % 3.9e60` trapped).
  static func integer(from number: Double) throws -> Int {
    guard !number.isNaN else { throw JinjaRuntimeError.type("cannot convert float NaN to integer") }
    guard number.isFinite else { throw JinjaRuntimeError.type("cannot convert float infinity to integer") }
    guard let value = Int(exactly: number.rounded(.towardZero)) else {
      throw JinjaRuntimeError.type("integer \(number) is too large (past 64 bits)")
    }
    return value
  }

  /// Python's type name, as error messages print it (`'int' object is not iterable`).
  var typeName: String {
    switch self {
    case .none: return "NoneType"
    case .bool: return "bool"
    case .int: return "int"
    case .double: return "float"
    case .string: return "str"
    case .array: return "list"
    case .object: return "dict"
    case .undefined: return "Undefined"
    case .namespace: return "Namespace"
    case .function: return "function"
    case .generator(let generator): return generator.typeName
    }
  }
}

extension JinjaValue: Equatable {
  /// Structural equality: same case and equal contents (undefined values are all equal, namespaces and
  /// functions by identity). Templates compare with Python's looser rules (`1 == 1.0`), see `looselyEquals`.
  public static func == (lhs: JinjaValue, rhs: JinjaValue) -> Bool {
    switch (lhs, rhs) {
    case (.none, .none), (.undefined, .undefined): return true
    case (.bool(let a), .bool(let b)): return a == b
    case (.int(let a), .int(let b)): return a == b
    case (.double(let a), .double(let b)): return a == b
    case (.string(let a), .string(let b)): return a == b
    case (.array(let a), .array(let b)): return a == b
    case (.object(let a), .object(let b)): return a == b
    case (.namespace(let a), .namespace(let b)): return a === b
    case (.function(let a), .function(let b)): return a === b
    case (.generator(let a), .generator(let b)): return a === b
    default: return false
    }
  }
}

extension JinjaValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
  ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
  ExpressibleByDictionaryLiteral
{
  public init(nilLiteral: ()) { self = .none }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(integerLiteral value: Int) { self = .int(value) }
  public init(floatLiteral value: Double) { self = .double(value) }
  public init(stringLiteral value: String) { self = .string(value) }
  public init(arrayLiteral elements: JinjaValue...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, JinjaValue)...) {
    self = .object(JinjaObject(elements))
  }
}

/// The object `namespace(...)` creates: attributes that `{% set ns.attr = ... %}` can change from inside loops.
public final class JinjaNamespace: @unchecked Sendable {
  /// Only touched by the one render call that created the namespace.
  var attributes: JinjaObject

  init(_ attributes: JinjaObject) { self.attributes = attributes }
}

/// A one-shot iterator. Its items are computed when first read, so, as with Python generators, an error in
/// `x | map(...)` only surfaces if something reads the result.
public final class JinjaGenerator: @unchecked Sendable {
  /// Python's type name: `generator`, `list_reverseiterator`, ...
  let typeName: String
  /// The function that made it, for its repr: `<generator object select_or_reject>`.
  let function: String
  private var produce: (() throws -> [JinjaValue])?
  private var items: [JinjaValue] = []
  private var position = 0

  init(function: String, typeName: String = "generator", _ produce: @escaping () throws -> [JinjaValue]) {
    self.function = function
    self.typeName = typeName
    self.produce = produce
  }

  private func materialize() throws {
    guard let produce else { return }
    self.produce = nil
    items = try produce()
  }

  /// The next item, consuming it; nil when exhausted.
  func next() throws -> JinjaValue? {
    try materialize()
    guard position < items.count else { return nil }
    position += 1
    return items[position - 1]
  }

  /// Every item left, consuming them all.
  func drain() throws -> [JinjaValue] {
    try materialize()
    let rest = Array(items[position...])
    position = items.count
    return rest
  }
}

/// A callable value. Macros capture the scope they were defined in; builtins ignore the interpreter.
public final class JinjaFunction: @unchecked Sendable {
  let name: String
  let body: (JinjaInterpreter, JinjaArguments) throws -> JinjaValue

  init(name: String, body: @escaping (JinjaInterpreter, JinjaArguments) throws -> JinjaValue) {
    self.name = name
    self.body = body
  }
}
