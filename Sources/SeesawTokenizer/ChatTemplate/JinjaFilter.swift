import Foundation

/// jinja2's builtin filters that this engine implements, plus transformers' `tojson`. Names are resolved once, at
/// parse time; the arguments follow the Python signatures (`default(value, default_value='', boolean=False)`).
enum JinjaFilter: Sendable {
  case abs, attr, batch, capitalize, center, defaultValue, dictsort, escape, first, float, forceescape, format
  case indent, int, items, join, last, length, list, lower, map, max, min, reject, rejectattr, replace, reverse
  case round, safe, select, selectattr, sort, string, sum, title, tojson, trim, truncate, unique, upper, wordcount

  init?(name: String) {
    let filters: [String: JinjaFilter] = [
      "abs": .abs, "attr": .attr, "batch": .batch, "capitalize": .capitalize, "center": .center, "count": .length,
      "d": .defaultValue, "default": .defaultValue, "dictsort": .dictsort, "e": .escape, "escape": .escape,
      "first": .first, "float": .float, "forceescape": .forceescape, "format": .format, "indent": .indent,
      "int": .int, "items": .items, "join": .join, "last": .last, "length": .length, "list": .list, "lower": .lower,
      "map": .map, "max": .max, "min": .min, "reject": .reject, "rejectattr": .rejectattr, "replace": .replace,
      "reverse": .reverse, "round": .round, "safe": .safe, "select": .select, "selectattr": .selectattr,
      "sort": .sort, "string": .string, "sum": .sum, "title": .title, "tojson": .tojson, "trim": .trim,
      "truncate": .truncate, "unique": .unique, "upper": .upper, "wordcount": .wordcount,
    ]
    guard let filter = filters[name] else { return nil }
    self = filter
  }

  /// jinja2 builtins left out: a template using one fails as unsupported rather than as a typo.
  static let unimplemented: Set<String> = [
    "filesizeformat", "groupby", "pprint", "random", "slice", "striptags", "urlencode", "urlize", "wordwrap", "xmlattr",
  ]

  /// The error for a filter name this engine cannot run.
  static func missing(_ name: String) -> JinjaRuntimeError {
    unimplemented.contains(name)
      ? JinjaRuntimeError(kind: .unsupported, message: "the '\(name)' filter")
      : JinjaRuntimeError(kind: .unknownFilter, message: name)
  }
}

extension JinjaInterpreter {
  func applyFilter(_ filter: JinjaFilter, _ value: JinjaValue, _ arguments: JinjaArguments) throws -> JinjaValue {
    func bind(_ parameters: [String], required: Int = 0) throws -> [JinjaValue?] {
      try arguments.bind(parameters, required: required, function: "\(filter)")
    }
    let text = { JinjaRepr.str(value) }
    switch filter {
    case .abs:
      switch value {
      case .int(let i): return .int(Swift.abs(i))
      case .bool(let b): return .int(b ? 1 : 0)
      case .double(let d): return .double(Swift.abs(d))
      default: throw JinjaRuntimeError.type("bad operand type for abs(): '\(value.typeName)'")
      }
    case .capitalize: return .string(PythonString.capitalize(text()))
    case .center:
      let width = try bind(["width"])[0].map { try $0.requireInt("width") } ?? 80
      try JinjaLimits.checkString("center", unit: 1, count: width)
      return .string(PythonString.center(text(), width))
    case .defaultValue:
      let bound = try bind(["default_value", "boolean"])
      if value.isUndefined || (bound[1]?.isTruthy == true && !value.isTruthy) { return bound[0] ?? .string("") }
      return value
    case .escape, .forceescape:
      var escaped = ""
      for c in text().unicodeScalars {
        switch c {
        case "&": escaped += "&amp;"
        case "<": escaped += "&lt;"
        case ">": escaped += "&gt;"
        case "\"": escaped += "&#34;"
        case "'": escaped += "&#39;"
        default: escaped.unicodeScalars.append(c)
        }
      }
      return .string(escaped)
    case .float:
      let fallback = try bind(["default"])[0] ?? .double(0)
      if case .undefined(let hint) = value { throw JinjaRuntimeError.undefined(hint) }
      if let number = value.numericValue { return .double(number) }
      if case .string(let s) = value, let number = JinjaFilter.parseFloat(s) { return .double(number) }
      return fallback
    case .format:
      if !arguments.positional.isEmpty && !arguments.keywords.isEmpty {
        throw JinjaRuntimeError.type("can't handle positional and keyword arguments at the same time")
      }
      // `value % args` with args a tuple, or `value % kwargs` with a dict.
      if arguments.keywords.isEmpty {
        return .string(try PythonFormat.percent(text(), arguments.positional, mapping: .none))
      }
      let mapping = JinjaValue.object(arguments.keywordObject)
      return .string(try PythonFormat.percent(text(), [mapping], mapping: mapping))
    case .indent:
      let bound = try bind(["width", "first", "blank"])
      let indentation: String
      if case .string(let s)? = bound[0] {
        indentation = s
      } else {
        let width = try bound[0].map { try $0.requireInt("width") } ?? 4
        try JinjaLimits.checkString("indent", unit: 1, count: width)
        indentation = String(repeating: " ", count: max(0, width))
      }
      guard case .string(let s) = value else {
        throw JinjaRuntimeError.type("can only concatenate str (not \"\(value.typeName)\") to str")
      }
      var lines = PythonString.splitLines(s + "\n")
      var result: String
      if bound[2]?.isTruthy == true {
        result = lines.joined(separator: "\n" + indentation)
      } else {
        result = lines.removeFirst()
        if !lines.isEmpty { result += "\n" + lines.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n") }
      }
      return .string(bound[1]?.isTruthy == true ? indentation + result : result)
    case .int:
      let bound = try bind(["default", "base"])
      let fallback = bound[0] ?? .int(0)
      let base = try bound[1].map { try $0.requireInt("base") } ?? 10
      switch value {
      case .undefined(let hint): throw JinjaRuntimeError.undefined(hint)
      case .int, .bool: return .int(value.integerValue!)
      case .double(let d): return d.isFinite && Swift.abs(d) < 9.2e18 ? .int(Int(d)) : fallback
      case .string(let s):
        if let parsed = JinjaFilter.parseInt(s, base: base) { return .int(parsed) }
        if let d = JinjaFilter.parseFloat(s), d.isFinite, Swift.abs(d) < 9.2e18 { return .int(Int(d)) }
        return fallback
      default: return fallback
      }
    case .lower: return .string(PythonString.lower(text()))
    case .upper: return .string(PythonString.upper(text()))
    case .replace:
      let bound = try bind(["old", "new", "count"], required: 2)
      let count = try bound[2].flatMap { $0 == .none ? nil : try $0.requireInt("count") } ?? -1
      let (s, old, new) = (text(), JinjaRepr.str(bound[0]!), JinjaRepr.str(bound[1]!))
      try JinjaLimits.checkReplace(s, old, new, count: count)
      return .string(PythonString.replace(s, old, new, count: count))
    case .round:
      let bound = try bind(["precision", "method"])
      let precision = try bound[0].map { try $0.requireInt("precision") } ?? 0
      let method = try bound[1].map { try $0.requireString("method") } ?? "common"
      return try JinjaFilter.round(value, precision: precision, method: method)
    case .safe: return .string(text())
    case .string: return .string(text())
    case .title:
      // jinja2's do_title: words start after `-`, whitespace or an opening bracket.
      var result = ""
      var atWordStart = true
      for c in text().unicodeScalars {
        let separator = c == "-" || c == "(" || c == "{" || c == "[" || c == "<" || PythonString.isSpace(c)
        result += separator ? String(c) : atWordStart ? c.properties.uppercaseMapping : c.properties.lowercaseMapping
        atWordStart = separator
      }
      return .string(result)
    case .tojson:
      let bound = try bind(["ensure_ascii", "indent", "separators", "sort_keys"])
      return .string(try JinjaJSON.encode(value, options: try JinjaJSON.Options(bound)))
    case .trim:
      let chars = try bind(["chars"])[0].flatMap { $0 == .none ? nil : JinjaRepr.str($0) }
      return .string(PythonString.strip(text(), chars))
    case .truncate:
      let bound = try bind(["length", "killwords", "end", "leeway"])
      let length = try bound[0].map { try $0.requireInt("length") } ?? 255
      let end = try bound[2].map { try $0.requireString("end") } ?? "..."
      let leeway = try bound[3].flatMap { $0 == .none ? nil : try $0.requireInt("leeway") } ?? 5
      switch value {
      case .string: break
      case .array(let items) where items.count <= length + leeway: return value
      case .undefined: return .string("")
      default: throw JinjaRuntimeError.type("object of type '\(value.typeName)' has no len()")
      }
      let scalars = Array(text().unicodeScalars)
      if scalars.count <= length + leeway { return .string(text()) }
      let kept = PythonString.fromScalars(scalars.prefix(max(0, length - end.unicodeScalars.count)))
      if bound[1]?.isTruthy == true { return .string(kept + end) }
      return .string(PythonString.rsplit(kept, " ", maxSplit: 1)[0] + end)
    case .wordcount:
      var count = 0
      var inWord = false
      for c in text().unicodeScalars {
        let isWord = c == "_" || PythonString.isAlphanumeric(c)
        if isWord && !inWord { count += 1 }
        inWord = isWord
      }
      return .int(count)
    default:
      return try applySequenceFilter(filter, value, arguments)
    }
  }
}
