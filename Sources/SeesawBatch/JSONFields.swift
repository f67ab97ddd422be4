import Foundation

/// A field of a request that has the wrong type or value; the message names the field.
public struct FieldError: Error, Equatable, CustomStringConvertible, LocalizedError {
  /// The field's name, e.g. `temperature` or `messages[1].content`.
  public var field: String
  public var reason: String

  public init(field: String, reason: String) {
    self.field = field
    self.reason = reason
  }

  public var description: String { "field '\(field)' \(reason)" }
  public var errorDescription: String? { description }
}

/// Typed reads of a JSON object's fields (as `JSONSerialization` parses them). A missing field or `null` reads as
/// nil (the default applies, as in OpenAI's API); a field of the wrong type throws a `FieldError` naming it.
public struct JSONFields {
  public let object: [String: Any]
  /// Put before field names in errors, e.g. `messages[0].`.
  public let prefix: String

  public init(_ object: [String: Any], prefix: String = "") {
    self.object = object
    self.prefix = prefix
  }

  /// Parses `data` as a JSON object; nil when it is not valid JSON or not an object.
  public static func parse(_ data: Data) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: data, options: [])) as? [String: Any]
  }

  func fail(_ key: String, _ reason: String) -> FieldError { FieldError(field: prefix + key, reason: reason) }

  /// The raw value, nil for missing or null.
  public func value(_ key: String) -> Any? {
    guard let v = object[key], !(v is NSNull) else { return nil }
    return v
  }

  public func number(_ key: String) throws -> Double? {
    guard let v = value(key) else { return nil }
    guard let d = Self.number(v) else { throw fail(key, "must be a number") }
    return d
  }

  public func float(_ key: String) throws -> Float? { try number(key).map(Float.init) }

  public func integer(_ key: String) throws -> Int? {
    guard let v = value(key) else { return nil }
    guard let i = Self.integer(v) else { throw fail(key, "must be an integer") }
    return i
  }

  public func bool(_ key: String) throws -> Bool? {
    guard let v = value(key) else { return nil }
    guard let n = v as? NSNumber, Self.isBool(n) else { throw fail(key, "must be true or false") }
    return n.boolValue
  }

  public func string(_ key: String) throws -> String? {
    guard let v = value(key) else { return nil }
    guard let s = v as? String else { throw fail(key, "must be a string") }
    return s
  }

  /// A string or a list of strings.
  public func strings(_ key: String) throws -> [String]? {
    guard let v = value(key) else { return nil }
    if let s = v as? String { return [s] }
    guard let list = v as? [Any], let strings = list.map({ $0 as? String }) as? [String] else {
      throw fail(key, "must be a string or a list of strings")
    }
    return strings
  }

  public func integers(_ key: String) throws -> [Int]? {
    guard let v = value(key) else { return nil }
    guard let list = Self.integers(v) else { throw fail(key, "must be a list of integers") }
    return list
  }

  /// JSON true/false arrive as NSNumber too; their objCType is "c" (char), a number's is "q" or "d".
  static func isBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

  /// A JSON number (not a boolean) as a Double.
  public static func number(_ v: Any) -> Double? {
    guard let n = v as? NSNumber, !isBool(n) else { return nil }
    return n.doubleValue
  }

  /// A JSON number with an integral value in Int's range (4.0 counts, 4.5 does not).
  public static func integer(_ v: Any) -> Int? {
    guard let n = v as? NSNumber, !isBool(n) else { return nil }
    let d = n.doubleValue
    guard d.isFinite, d.rounded() == d, abs(d) < 9.2e18 else { return nil }
    return String(cString: n.objCType) == "d" ? Int(d) : n.intValue
  }

  /// A JSON list of integers.
  public static func integers(_ v: Any) -> [Int]? {
    guard let list = v as? [Any] else { return nil }
    var out: [Int] = []
    out.reserveCapacity(list.count)
    for item in list {
      guard let i = integer(item) else { return nil }
      out.append(i)
    }
    return out
  }
}
