import Foundation

/// A string-keyed dictionary that remembers insertion order, like Python's `dict`.
///
/// Order matters for output: `tojson` and `items()` walk keys in the order they were added. Chat messages and
/// tool schemas have a handful of keys, so a key list plus a hash map costs little.
public struct JinjaObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
  /// The keys in insertion order.
  public private(set) var keys: [String] = []
  private var storage: [String: JinjaValue] = [:]

  public init() {}

  public init<S: Sequence>(_ pairs: S) where S.Element == (String, JinjaValue) {
    for (key, value) in pairs { self[key] = value }
  }

  public init(dictionaryLiteral elements: (String, JinjaValue)...) { self.init(elements) }

  public var count: Int { keys.count }
  public var isEmpty: Bool { keys.isEmpty }

  /// The values in key order.
  public var values: [JinjaValue] { keys.map { storage[$0]! } }

  /// The (key, value) pairs in key order.
  public var pairs: [(key: String, value: JinjaValue)] { keys.map { ($0, storage[$0]!) } }

  /// The value for `key`; assigning a new key appends it, assigning an existing one keeps its place, `nil` removes.
  public subscript(key: String) -> JinjaValue? {
    get { storage[key] }
    set {
      if let newValue {
        if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
      } else if storage.removeValue(forKey: key) != nil {
        keys.removeAll { $0 == key }
      }
    }
  }

  /// Equal when they hold the same keys and values, in any order (Python's `dict.__eq__`).
  public static func == (lhs: JinjaObject, rhs: JinjaObject) -> Bool { lhs.storage == rhs.storage }
}
