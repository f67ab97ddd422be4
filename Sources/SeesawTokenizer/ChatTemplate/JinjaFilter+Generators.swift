import Foundation

/// Filters that return jinja2 generators: `map`, `select`, `reject`, `selectattr`, `rejectattr`, `unique`, `batch`,
/// `items` and `reverse`. Their work runs when the result is first read, so errors surface there, as in Python; the
/// result is always true and has no length (`| list | length` is the way to count, as with jinja2).
extension JinjaInterpreter {
  func applyGeneratorFilter(_ filter: JinjaFilter, _ value: JinjaValue, _ arguments: JinjaArguments) throws
    -> JinjaValue
  {
    func bind(_ parameters: [String], required: Int = 0) throws -> [JinjaValue?] {
      try arguments.bind(parameters, required: required, function: "\(filter)")
    }
    switch filter {
    case .batch:
      let bound = try bind(["linecount", "fill_with"], required: 1)
      let size = try bound[0]!.requireInt("linecount")
      guard size > 0 else { throw JinjaRuntimeError.type("batch size must be positive") }
      return .generator(
        JinjaGenerator(function: "do_batch") {
          var batches: [JinjaValue] = []
          var current: [JinjaValue] = []
          for item in try JinjaOperators.iterate(value) {
            if current.count == size {
              batches.append(.array(current))
              current = []
            }
            current.append(item)
          }
          if !current.isEmpty {
            if let fill = bound[1], fill != .none {
              try JinjaLimits.checkItems("batch", unit: 1, count: size)
              current += Array(repeating: fill, count: size - current.count)
            }
            batches.append(.array(current))
          }
          return batches
        })
    case .items:
      return .generator(
        JinjaGenerator(function: "do_items") {
          switch value {
          case .undefined: return []
          case .object(let object): return object.pairs.map { .array([.string($0.key), $0.value]) }
          default: throw JinjaRuntimeError.type("Can only get item pairs from a mapping.")
          }
        })
    case .map:
      return .generator(
        JinjaGenerator(function: "sync_do_map") {
          guard value.isTruthy else { return [] }
          return try JinjaOperators.iterate(value).map(try self.mapTransform(arguments))
        })
    case .select, .reject, .selectattr, .rejectattr:
      let keep = filter == .select || filter == .selectattr
      var positional = arguments.positional
      var getter: JinjaFilter.Getter = { $0 }
      var predicate: (JinjaValue) throws -> Bool = { $0.isTruthy }
      let prepare = {
        if filter == .selectattr || filter == .rejectattr {
          guard !positional.isEmpty else { throw JinjaRuntimeError.type("Missing parameter for attribute name") }
          getter = JinjaFilter.attributeGetter(positional.removeFirst())
        }
        if !positional.isEmpty {
          let testName = try positional.removeFirst().requireString("test name")
          guard let test = JinjaTest(name: testName) else {
            throw JinjaRuntimeError(kind: .unknownTest, message: testName)
          }
          let rest = JinjaArguments(positional, keywords: arguments.keywords)
          predicate = { try self.runTest(test, $0, rest) }
        }
      }
      return .generator(
        JinjaGenerator(function: "select_or_reject") {
          guard value.isTruthy else { return [] }
          try prepare()
          return try JinjaOperators.iterate(value).filter { try predicate(try getter($0)) == keep }
        })
    case .unique:
      let bound = try bind(["case_sensitive", "attribute"])
      let getter = JinjaFilter.attributeGetter(bound[1] ?? JinjaValue.none)
      let caseSensitive = bound[0]?.isTruthy ?? false
      return .generator(
        JinjaGenerator(function: "sync_do_unique") {
          var seen: [JinjaValue] = []
          var result: [JinjaValue] = []
          for item in try JinjaOperators.iterate(value) {
            let key = caseSensitive ? try getter(item) : JinjaFilter.ignoreCase(try getter(item))
            if !seen.contains(where: { JinjaOperators.looselyEquals($0, key) }) {
              seen.append(key)
              result.append(item)
            }
          }
          return result
        })
    case .reverse:
      switch value {
      case .string(let s):
        return .string(PythonString.fromScalars(s.unicodeScalars.reversed()))
      case .array(let items):
        return .generator(JinjaGenerator(function: "reversed", typeName: "list_reverseiterator") { items.reversed() })
      case .object(let object):
        return .generator(
          JinjaGenerator(function: "reversed", typeName: "dict_reversekeyiterator") {
            object.keys.reversed().map { .string($0) }
          })
      case .undefined:
        return .generator(JinjaGenerator(function: "reversed", typeName: "reversed") { [] })
      default:
        // jinja2 falls back to a reversed list of the items (generators); anything else is not iterable.
        return .array(try JinjaOperators.iterate(value).reversed())
      }
    default:
      preconditionFailure("\(filter) is not a sequence filter")
    }
  }

  /// jinja2's `prepare_map`: `map(attribute='a.b', default=x)` or `map('filter', args...)`.
  private func mapTransform(_ arguments: JinjaArguments) throws -> JinjaFilter.Getter {
    if arguments.positional.isEmpty, let attribute = arguments.keywords.first(where: { $0.0 == "attribute" })?.1 {
      if let unexpected = arguments.keywords.first(where: { $0.0 != "attribute" && $0.0 != "default" }) {
        throw JinjaRuntimeError.type("Unexpected keyword argument '\(unexpected.0)'")
      }
      return JinjaFilter.attributeGetter(attribute, default: arguments.keywords.first { $0.0 == "default" }?.1)
    }
    guard let name = arguments.positional.first else { throw JinjaRuntimeError.type("map requires a filter argument") }
    let filterName = try name.requireString("filter name")
    guard let filter = JinjaFilter(name: filterName) else { throw JinjaFilter.missing(filterName) }
    let rest = JinjaArguments(Array(arguments.positional.dropFirst()), keywords: arguments.keywords)
    return { try self.applyFilter(filter, $0, rest) }
  }
}
