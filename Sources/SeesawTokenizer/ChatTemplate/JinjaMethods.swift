import Foundation

/// Python methods templates call on values: `str` (`strip`, `split`, `startswith`, ...), `dict` (`items`, `get`, ...)
/// and the read-only `list` methods. Methods that would mutate a dict or list are refused, as in jinja2's
/// `ImmutableSandboxedEnvironment`.
enum JinjaMethods {
  static let stringMethods: Set<String> = [
    "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "rsplit", "splitlines", "replace", "upper",
    "lower", "title", "capitalize", "swapcase", "casefold", "find", "rfind", "index", "rindex", "count", "join",
    "format", "isdigit", "isdecimal", "isnumeric", "isalpha", "isalnum", "isspace", "islower", "isupper", "center",
    "ljust", "rjust", "zfill", "partition", "rpartition", "removeprefix", "removesuffix",
  ]
  static let dictMethods: Set<String> = ["items", "keys", "values", "get", "copy"]
  static let listMethods: Set<String> = ["index", "count", "copy"]
  static let mutatingMethods: Set<String> = [
    "append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear", "popitem", "setdefault", "update",
  ]

  /// `value.name` as a callable when `name` is a method of the value's type (or the sandbox's refusal).
  static func bound(_ value: JinjaValue, _ name: String) -> JinjaValue? {
    let isMethod: Bool
    switch value {
    case .string: isMethod = stringMethods.contains(name)
    case .object: isMethod = dictMethods.contains(name)
    case .array: isMethod = listMethods.contains(name)
    default: return nil
    }
    if !isMethod {
      if case .string = value { return nil }
      guard mutatingMethods.contains(name) else { return nil }
      return .undefined(hint: "access to attribute '\(name)' of '\(value.typeName)' object is unsafe.")
    }
    return .function(
      JinjaFunction(name: name) { interpreter, arguments in
        try call(value, name, arguments, interpreter) ?? JinjaValue.none
      })
  }

  /// Calls method `name` on `value`; nil when the value's type has no such (safe) method.
  static func call(
    _ value: JinjaValue, _ name: String, _ arguments: JinjaArguments, _ interpreter: JinjaInterpreter
  ) throws -> JinjaValue? {
    switch value {
    case .string(let s) where stringMethods.contains(name):
      return try callString(s, name, arguments)
    case .object(let object) where dictMethods.contains(name):
      switch name {
      case "items": return .array(object.pairs.map { .array([.string($0.key), $0.value]) })
      case "keys": return .array(object.keys.map { .string($0) })
      case "values": return .array(object.values)
      case "copy": return value
      default:
        let bound = try arguments.bind(["key", "default"], required: 1, function: "get")
        if case .string(let key)? = bound[0], let found = object[key] { return found }
        return bound[1] ?? JinjaValue.none
      }
    case .array(let items) where listMethods.contains(name):
      if name == "copy" { return value }
      let needle = try arguments.bind(["value"], required: 1, function: name)[0]!
      if name == "count" { return .int(items.filter { JinjaOperators.looselyEquals($0, needle) }.count) }
      guard let found = items.firstIndex(where: { JinjaOperators.looselyEquals($0, needle) }) else {
        throw JinjaRuntimeError.type("\(JinjaRepr.repr(needle)) is not in list")
      }
      return .int(found)
    default:
      return nil
    }
  }

  private static func callString(_ s: String, _ name: String, _ arguments: JinjaArguments) throws -> JinjaValue {
    func strings(_ parameters: [String], required: Int = 0) throws -> [String?] {
      try arguments.bind(parameters, required: required, function: name).map { value in
        guard let value, value != .none else { return nil }
        return try value.requireString("\(name)() argument")
      }
    }
    func integer(_ value: JinjaValue?, _ defaultValue: Int) throws -> Int {
      guard let value, value != .none else { return defaultValue }
      return try value.requireInt("\(name)() argument")
    }
    switch name {
    case "strip", "lstrip", "rstrip":
      let chars = try strings(["chars"])[0]
      return .string(PythonString.strip(s, chars, leading: name != "rstrip", trailing: name != "lstrip"))
    case "startswith", "endswith":
      let bound = try arguments.bind(["prefix", "start", "end"], required: 1, function: name)
      let scalars = Array(s.unicodeScalars)
      let start = try integer(bound[1], 0)
      let end = try integer(bound[2], scalars.count)
      guard case .string(let window) = try JinjaOperators.slice(.string(s), .int(start), .int(end), .none) else {
        return .bool(false)
      }
      let candidates: [JinjaValue]
      if case .array(let items) = bound[0]! { candidates = items } else { candidates = [bound[0]!] }
      for candidate in candidates {
        let text = try candidate.requireString("\(name) first arg")
        if name == "startswith" ? PythonString.hasPrefix(window, text) : PythonString.hasSuffix(window, text) {
          return .bool(true)
        }
      }
      return .bool(false)
    case "split", "rsplit":
      let bound = try arguments.bind(["sep", "maxsplit"], function: name)
      let separator = bound[0] == nil || bound[0] == JinjaValue.none ? nil : try bound[0]!.requireString("sep")
      if separator == "" { throw JinjaRuntimeError.type("empty separator") }
      let limit = try integer(bound[1], -1)
      let parts =
        name == "split"
        ? PythonString.split(s, separator, maxSplit: limit) : PythonString.rsplit(s, separator, maxSplit: limit)
      return .array(parts.map { .string($0) })
    case "splitlines":
      let keep = try arguments.bind(["keepends"], function: name)[0]?.isTruthy ?? false
      return .array(PythonString.splitLines(s, keepEnds: keep).map { .string($0) })
    case "replace":
      let bound = try arguments.bind(["old", "new", "count"], required: 2, function: name)
      let old = try bound[0]!.requireString("replace() argument 1")
      let new = try bound[1]!.requireString("replace() argument 2")
      let count = try integer(bound[2], -1)
      try JinjaLimits.checkReplace(s, old, new, count: count)
      return .string(PythonString.replace(s, old, new, count: count))
    case "upper": return .string(PythonString.upper(s))
    case "lower", "casefold": return .string(PythonString.lower(s))
    case "title": return .string(PythonString.title(s))
    case "capitalize": return .string(PythonString.capitalize(s))
    case "swapcase":
      return .string(
        s.unicodeScalars.map {
          $0.properties.isUppercase
            ? $0.properties.lowercaseMapping
            : $0.properties.isLowercase ? $0.properties.uppercaseMapping : String($0)
        }.joined())
    case "find", "rfind", "index", "rindex", "count":
      let sub = try strings(["sub"], required: 1)[0]!
      let scalars = Array(s.unicodeScalars)
      let needle = Array(sub.unicodeScalars)
      var hits: [Int] = []
      var i = 0
      while i + needle.count <= scalars.count {
        if scalars[i..<(i + needle.count)].elementsEqual(needle) {
          hits.append(i)
          i += name == "count" ? max(needle.count, 1) : 1
        } else {
          i += 1
        }
      }
      if name == "count" { return .int(hits.count) }
      guard let hit = name.hasPrefix("r") ? hits.last : hits.first else {
        if name.hasSuffix("index") { throw JinjaRuntimeError.type("substring not found") }
        return .int(-1)
      }
      return .int(hit)
    case "join":
      let items = try JinjaOperators.iterate(try arguments.bind(["iterable"], required: 1, function: name)[0]!)
      let strings = try items.enumerated().map { index, item in
        guard case .string(let text) = item else {
          throw JinjaRuntimeError.type("sequence item \(index): expected str instance, \(item.typeName) found")
        }
        return text
      }
      try JinjaLimits.checkJoin("join", sizes: strings.map(\.utf8.count), separator: s.utf8.count)
      return .string(strings.joined(separator: s))
    case "format":
      return .string(try PythonFormat.format(s, arguments))
    case "isdigit", "isdecimal", "isnumeric":
      return .bool(
        PythonString.all(s) { c in
          guard let type = c.properties.numericType else { return false }
          return name == "isnumeric" || type == .decimal || (name == "isdigit" && type == .digit)
        })
    case "isalpha": return .bool(PythonString.all(s) { $0.properties.isAlphabetic })
    case "isalnum": return .bool(PythonString.all(s, PythonString.isAlphanumeric))
    case "isspace": return .bool(PythonString.all(s, PythonString.isSpace))
    case "islower": return .bool(PythonString.isLower(s))
    case "isupper": return .bool(PythonString.isUpper(s))
    case "center", "ljust", "rjust", "zfill":
      let bound = try arguments.bind(["width", "fillchar"], required: 1, function: name)
      let width = try bound[0]!.requireInt("width")
      let fill = try bound[1].map { try $0.requireString("fillchar") } ?? (name == "zfill" ? "0" : " ")
      try JinjaLimits.checkString("\(name)()", unit: max(fill.utf8.count, 1), count: width)
      let padding = max(0, width - PythonString.codePointCount(s))
      switch name {
      case "center": return .string(PythonString.center(s, width, fill: fill))
      case "ljust": return .string(s + String(repeating: fill, count: padding))
      case "rjust": return .string(String(repeating: fill, count: padding) + s)
      default:
        let sign = s.hasPrefix("-") || s.hasPrefix("+") ? String(s.prefix(1)) : ""
        return .string(sign + String(repeating: "0", count: padding) + s.dropFirst(sign.count))
      }
    case "partition", "rpartition":
      let separator = try strings(["sep"], required: 1)[0]!
      let parts =
        name == "partition"
        ? PythonString.split(s, separator, maxSplit: 1) : PythonString.rsplit(s, separator, maxSplit: 1)
      if parts.count == 2 { return .array([.string(parts[0]), .string(separator), .string(parts[1])]) }
      return name == "partition" ? .array([.string(s), "", ""]) : .array(["", "", .string(s)])
    default:  // removeprefix, removesuffix
      let affix = try strings(["affix"], required: 1)[0]!
      if name == "removeprefix" && PythonString.hasPrefix(s, affix) {
        return .string(String(decoding: s.utf8.dropFirst(affix.utf8.count), as: UTF8.self))
      }
      if name == "removesuffix" && !affix.isEmpty && PythonString.hasSuffix(s, affix) {
        return .string(String(decoding: s.utf8.dropLast(affix.utf8.count), as: UTF8.self))
      }
      return .string(s)
    }
  }
}
