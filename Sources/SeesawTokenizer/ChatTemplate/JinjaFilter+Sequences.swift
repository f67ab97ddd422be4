import Foundation

/// Filters over sequences and mappings. jinja2 returns generators from `map`, `select` and friends; these return
/// lists, which print differently (`[...]` instead of `<generator ...>`) but join, loop and test the same.
extension JinjaInterpreter {
  func applySequenceFilter(_ filter: JinjaFilter, _ value: JinjaValue, _ arguments: JinjaArguments) throws -> JinjaValue {
    func bind(_ parameters: [String], required: Int = 0) throws -> [JinjaValue?] {
      try arguments.bind(parameters, required: required, function: "\(filter)")
    }
    switch filter {
    case .attr:
      let name = try bind(["name"], required: 1)[0]!.requireString("attribute name")
      if case .undefined(let hint) = value { throw JinjaRuntimeError.undefined(hint) }
      if let method = JinjaMethods.bound(value, name) { return method }
      if case .namespace(let namespace) = value, let found = namespace.attributes[name] { return found }
      return .undefined(hint: "'\(JinjaInterpreter.typeDescription(value))' has no attribute '\(name)'")
    case .batch:
      let bound = try bind(["linecount", "fill_with"], required: 1)
      let size = try bound[0]!.requireInt("linecount")
      guard size > 0 else { throw JinjaRuntimeError.type("batch size must be positive") }
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
        if let fill = bound[1], fill != .none { current += Array(repeating: fill, count: size - current.count) }
        batches.append(.array(current))
      }
      return .array(batches)
    case .dictsort:
      let bound = try bind(["case_sensitive", "by", "reverse"])
      guard case .object(let object) = value else { throw JinjaRuntimeError.type("dictsort expects a mapping") }
      let by = try bound[1].map { try $0.requireString("by") } ?? "key"
      guard by == "key" || by == "value" else { throw JinjaRuntimeError.type("You can only sort by either \"key\" or \"value\"") }
      let caseSensitive = bound[0]?.isTruthy ?? false
      let pairs = object.pairs.map { JinjaValue.array([.string($0.key), $0.value]) }
      return .array(try JinjaFilter.sorted(pairs, reverse: bound[2]?.isTruthy ?? false) { pair in
        guard case .array(let parts) = pair else { return [pair] }
        let key = parts[by == "key" ? 0 : 1]
        return [caseSensitive ? key : JinjaFilter.ignoreCase(key)]
      })
    case .first, .last:
      var items = try JinjaOperators.iterate(value)
      if filter == .last { items.reverse() }
      return items.first ?? .undefined(hint: "No \(filter == .first ? "first" : "last") item, sequence was empty.")
    case .items:
      switch value {
      case .undefined: return .array([])
      case .object(let object): return .array(object.pairs.map { .array([.string($0.key), $0.value]) })
      default: throw JinjaRuntimeError.type("Can only get item pairs from a mapping.")
      }
    case .join:
      let bound = try bind(["d", "attribute"])
      var items = try JinjaOperators.iterate(value)
      if let attribute = bound[1], attribute != .none {
        let getter = JinjaFilter.attributeGetter(attribute)
        items = try items.map(getter)
      }
      return .string(items.map(JinjaRepr.str).joined(separator: bound[0].map(JinjaRepr.str) ?? ""))
    case .length:
      switch value {
      case .string(let s): return .int(PythonString.codePointCount(s))
      case .array(let items): return .int(items.count)
      case .object(let object): return .int(object.count)
      case .undefined: return .int(0)
      default: throw JinjaRuntimeError.type("object of type '\(value.typeName)' has no len()")
      }
    case .list:
      return .array(try JinjaOperators.iterate(value))
    case .map:
      let items = try JinjaOperators.iterate(value)
      if arguments.positional.isEmpty, let attribute = arguments.keywords.first(where: { $0.0 == "attribute" })?.1 {
        let fallback = arguments.keywords.first { $0.0 == "default" }?.1
        if let unexpected = arguments.keywords.first(where: { $0.0 != "attribute" && $0.0 != "default" }) {
          throw JinjaRuntimeError.type("Unexpected keyword argument '\(unexpected.0)'")
        }
        let getter = JinjaFilter.attributeGetter(attribute, default: fallback)
        return .array(try items.map(getter))
      }
      guard let name = arguments.positional.first else { throw JinjaRuntimeError.type("map requires a filter argument") }
      let filterName = try name.requireString("filter name")
      guard let mapped = JinjaFilter(name: filterName) else { throw JinjaFilter.missing(filterName) }
      let rest = JinjaArguments(Array(arguments.positional.dropFirst()), keywords: arguments.keywords)
      return .array(try items.map { try applyFilter(mapped, $0, rest) })
    case .max, .min:
      let bound = try bind(["case_sensitive", "attribute"])
      let items = try JinjaOperators.iterate(value)
      guard !items.isEmpty else { return .undefined(hint: "No aggregated item, sequence was empty.") }
      let getter = JinjaFilter.attributeGetter(bound[1] ?? JinjaValue.none)
      let caseSensitive = bound[0]?.isTruthy ?? false
      let key = { (item: JinjaValue) in caseSensitive ? try getter(item) : JinjaFilter.ignoreCase(try getter(item)) }
      var best = items[0]
      var bestKey = try key(best)
      for item in items.dropFirst() {
        let itemKey = try key(item)
        let ordering = try JinjaOperators.order(itemKey, bestKey, filter == .max ? ">" : "<")
        if filter == .max ? ordering > 0 : ordering < 0 {
          best = item
          bestKey = itemKey
        }
      }
      return best
    case .select, .reject, .selectattr, .rejectattr:
      let byAttribute = filter == .selectattr || filter == .rejectattr
      let keep = filter == .select || filter == .selectattr
      guard value.isTruthy else { return .array([]) }
      var positional = arguments.positional
      var getter: (JinjaValue) throws -> JinjaValue = { $0 }
      if byAttribute {
        guard !positional.isEmpty else { throw JinjaRuntimeError.type("Missing parameter for attribute name") }
        getter = JinjaFilter.attributeGetter(positional.removeFirst())
      }
      var predicate: (JinjaValue) throws -> Bool = { $0.isTruthy }
      if !positional.isEmpty {
        let testName = try positional.removeFirst().requireString("test name")
        guard let test = JinjaTest(name: testName) else {
          throw JinjaRuntimeError(kind: .unknownTest, message: testName)
        }
        let rest = JinjaArguments(positional, keywords: arguments.keywords)
        predicate = { try self.runTest(test, $0, rest) }
      }
      return .array(try JinjaOperators.iterate(value).filter { try predicate(try getter($0)) == keep })
    case .reverse:
      if case .string(let s) = value { return .string(PythonString.fromScalars(s.unicodeScalars.reversed())) }
      return .array(try JinjaOperators.iterate(value).reversed())
    case .sort:
      let bound = try bind(["reverse", "case_sensitive", "attribute"])
      let getters = JinjaFilter.multiAttributeGetter(bound[2] ?? JinjaValue.none)
      let caseSensitive = bound[1]?.isTruthy ?? false
      return .array(try JinjaFilter.sorted(try JinjaOperators.iterate(value), reverse: bound[0]?.isTruthy ?? false) { item in
        try getters.map { caseSensitive ? try $0(item) : JinjaFilter.ignoreCase(try $0(item)) }
      })
    case .sum:
      let bound = try bind(["attribute", "start"])
      var total = bound[1] ?? .int(0)
      let getter = JinjaFilter.attributeGetter(bound[0] ?? JinjaValue.none)
      for item in try JinjaOperators.iterate(value) {
        total = try JinjaOperators.binary(.add, total, try getter(item))
      }
      return total
    case .unique:
      let bound = try bind(["case_sensitive", "attribute"])
      let getter = JinjaFilter.attributeGetter(bound[1] ?? JinjaValue.none)
      let caseSensitive = bound[0]?.isTruthy ?? false
      var seen: [JinjaValue] = []
      var result: [JinjaValue] = []
      for item in try JinjaOperators.iterate(value) {
        let key = caseSensitive ? try getter(item) : JinjaFilter.ignoreCase(try getter(item))
        if !seen.contains(where: { JinjaOperators.looselyEquals($0, key) }) {
          seen.append(key)
          result.append(item)
        }
      }
      return .array(result)
    default:
      preconditionFailure("\(filter) is not a sequence filter")
    }
  }
}
