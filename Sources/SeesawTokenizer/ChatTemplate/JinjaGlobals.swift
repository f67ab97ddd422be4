import Foundation

/// Functions every template sees: jinja2's `range`, `dict` and `namespace`, and transformers' `raise_exception`
/// and `strftime_now`.
enum JinjaGlobals {
  /// The sandbox's cap on `range()` sizes.
  static let maxRange = 100_000

  static let functions: [String: JinjaValue] = [
    "raise_exception": function("raise_exception") { arguments in
      let message = try arguments.bind(["message"], required: 1, function: "raise_exception")[0]!
      throw JinjaRuntimeError(kind: .raised, message: JinjaRepr.str(message))
    },
    "strftime_now": function("strftime_now") { arguments in
      let format = try arguments.bind(["format"], required: 1, function: "strftime_now")[0]!
      return .string(strftimeNow(try format.requireString("format")))
    },
    "namespace": function("namespace") { arguments in
      let attributes = try mapping(arguments, function: "namespace")
      if let bad = attributes.keys.first(where: { $0.hasPrefix("_") }) {
        throw JinjaRuntimeError.type(
          "Chat templates cannot store underscore-prefixed attributes on a namespace, but got '\(bad)'")
      }
      return .namespace(JinjaNamespace(attributes))
    },
    "dict": function("dict") { arguments in .object(try mapping(arguments, function: "dict")) },
    "range": function("range") { arguments in
      let bounds = try arguments.positional.map { try $0.requireInt("range() argument") }
      guard arguments.keywords.isEmpty, (1...3).contains(bounds.count) else {
        throw JinjaRuntimeError.type("range expected 1 to 3 integer arguments")
      }
      let start = bounds.count == 1 ? 0 : bounds[0]
      let stop = bounds.count == 1 ? bounds[0] : bounds[1]
      let step = bounds.count == 3 ? bounds[2] : 1
      guard step != 0 else { throw JinjaRuntimeError.type("range() arg 3 must not be zero") }
      let values = stride(from: start, to: stop, by: step)
      guard values.underestimatedCount <= maxRange else {
        throw JinjaRuntimeError.type("Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(maxRange)).")
      }
      return .array(values.map { .int($0) })
    },
  ]

  private static func function(_ name: String, _ body: @escaping (JinjaArguments) throws -> JinjaValue) -> JinjaValue {
    .function(JinjaFunction(name: name) { _, arguments in try body(arguments) })
  }

  /// Python's `dict(*args, **kwargs)`: an optional mapping or list of pairs, then the keywords.
  private static func mapping(_ arguments: JinjaArguments, function: String) throws -> JinjaObject {
    guard arguments.positional.count <= 1 else {
      throw JinjaRuntimeError.type("\(function) expected at most 1 argument, got \(arguments.positional.count)")
    }
    var object = JinjaObject()
    if let first = arguments.positional.first {
      switch first {
      case .object(let source): object = source
      case .namespace(let namespace): object = namespace.attributes
      default:
        for pair in try JinjaOperators.iterate(first) {
          let parts = try JinjaOperators.iterate(pair)
          guard parts.count == 2, case .string(let key) = parts[0] else {
            throw JinjaRuntimeError.type("dictionary update sequence element has the wrong length or key type")
          }
          object[key] = parts[1]
        }
      }
    }
    for (key, value) in arguments.keywords { object[key] = value }
    return object
  }

  /// Python's `datetime.now().strftime(format)`: C strftime on the local time.
  static func strftimeNow(_ format: String) -> String {
    var now = time(nil)
    var parts = tm()
    localtime_r(&now, &parts)
    var buffer = [Int8](repeating: 0, count: 512 + format.utf8.count * 16)
    let length = strftime(&buffer, buffer.count, format, &parts)
    return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
