import Foundation

/// Filters that read a whole sequence or mapping: `first`, `last`, `join`, `length`, `list`, `sort`, `min`, `max`,
/// `sum`, `dictsort`, `attr`.
extension JinjaInterpreter {
  func applySequenceFilter(_ filter: JinjaFilter, _ value: JinjaValue, _ arguments: JinjaArguments) throws -> JinjaValue
  {
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
    case .dictsort:
      let bound = try bind(["case_sensitive", "by", "reverse"])
      if case .undefined(let hint) = value { throw JinjaRuntimeError.undefined(hint) }
      guard case .object(let object) = value else { throw JinjaRuntimeError.type("dictsort expects a mapping") }
      let by = try bound[1].map { try $0.requireString("by") } ?? "key"
      guard by == "key" || by == "value" else {
        throw JinjaRuntimeError.type("You can only sort by either \"key\" or \"value\"")
      }
      let caseSensitive = bound[0]?.isTruthy ?? false
      let pairs = object.pairs.map { JinjaValue.array([.string($0.key), $0.value]) }
      return .array(
        try JinjaFilter.sorted(pairs, reverse: bound[2]?.isTruthy ?? false) { pair in
          guard case .array(let parts) = pair else { return [pair] }
          let key = parts[by == "key" ? 0 : 1]
          return [caseSensitive ? key : JinjaFilter.ignoreCase(key)]
        })
    case .first:
      var first: JinjaValue?
      if case .generator(let generator) = value {
        first = try generator.next()
      } else {
        first = try JinjaOperators.iterate(value).first
      }
      return first ?? .undefined(hint: "No first item, sequence was empty.")
    case .last:
      if case .generator(let generator) = value {
        throw JinjaRuntimeError.type("'\(generator.typeName)' object is not reversible")
      }
      return try JinjaOperators.iterate(value).last ?? .undefined(hint: "No last item, sequence was empty.")
    case .join:
      let bound = try bind(["d", "attribute"])
      var items = try JinjaOperators.iterate(value)
      if let attribute = bound[1], attribute != .none {
        let getter = JinjaFilter.attributeGetter(attribute)
        items = try items.map(getter)
      }
      let (strings, separator) = (items.map(JinjaRepr.str), bound[0].map(JinjaRepr.str) ?? "")
      try JinjaLimits.checkJoin("join", sizes: strings.map(\.utf8.count), separator: separator.utf8.count)
      return .string(strings.joined(separator: separator))
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
    case .sort:
      let bound = try bind(["reverse", "case_sensitive", "attribute"])
      let getters = JinjaFilter.multiAttributeGetter(bound[2] ?? JinjaValue.none)
      let caseSensitive = bound[1]?.isTruthy ?? false
      return .array(
        try JinjaFilter.sorted(try JinjaOperators.iterate(value), reverse: bound[0]?.isTruthy ?? false) { item in
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
    default:
      return try applyGeneratorFilter(filter, value, arguments)
    }
  }
}
