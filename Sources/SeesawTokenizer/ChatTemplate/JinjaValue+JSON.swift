import Foundation

extension JinjaValue {
  /// Parses JSON text (tool schemas, messages with extra fields) keeping object key order, which `tojson` and
  /// `items()` show, and keeping `1` an int and `1.0` a float, as Python's `json.loads` does.
  public init(json: String) throws {
    var parser = JSONReader(bytes: Array(json.utf8))
    parser.skipWhitespace()
    let value = try parser.readValue()
    parser.skipWhitespace()
    guard parser.index == parser.bytes.count else { throw parser.error("unexpected data after the JSON value") }
    self = value
  }

  /// The value as JSON, as Python's `json.dumps(value, ensure_ascii=False)` writes it.
  public func jsonString() throws -> String {
    do {
      return try JinjaJSON.encode(self)
    } catch let error as JinjaRuntimeError {
      throw error.at(line: 0)
    }
  }
}

/// A small recursive-descent JSON reader over UTF-8 bytes.
private struct JSONReader {
  let bytes: [UInt8]
  var index = 0
  var depth = 0

  func error(_ message: String) -> ChatTemplateError {
    let line = bytes[..<min(index, bytes.count)].filter { $0 == 0x0A }.count + 1
    return .invalidJSON(message: "\(message) at byte \(index)", line: line)
  }

  mutating func skipWhitespace() {
    while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
  }

  mutating func expect(_ literal: String, _ value: JinjaValue) throws -> JinjaValue {
    guard bytes[index...].starts(with: literal.utf8) else { throw error("invalid literal") }
    index += literal.utf8.count
    return value
  }

  mutating func readValue() throws -> JinjaValue {
    guard index < bytes.count else { throw error("unexpected end of JSON") }
    switch bytes[index] {
    case UInt8(ascii: "{"):
      return .object(
        try readContainer(open: "{", close: "}") { reader in
          guard case .string(let key) = try reader.readString() else { throw reader.error("expected a key") }
          reader.skipWhitespace()
          guard reader.index < reader.bytes.count, reader.bytes[reader.index] == UInt8(ascii: ":") else {
            throw reader.error("expected ':'")
          }
          reader.index += 1
          reader.skipWhitespace()
          return (key, try reader.readValue())
        }.reduce(into: JinjaObject()) { $0[$1.0] = $1.1 })
    case UInt8(ascii: "["): return .array(try readContainer(open: "[", close: "]") { try $0.readValue() })
    case UInt8(ascii: "\""): return try readString()
    case UInt8(ascii: "t"): return try expect("true", .bool(true))
    case UInt8(ascii: "f"): return try expect("false", .bool(false))
    case UInt8(ascii: "n"): return try expect("null", .none)
    case UInt8(ascii: "N"): return try expect("NaN", .double(.nan))
    case UInt8(ascii: "I"): return try expect("Infinity", .double(.infinity))
    default: return try readNumber()
    }
  }

  mutating func readContainer<T>(
    open: Unicode.Scalar, close: Unicode.Scalar, _ element: (inout JSONReader) throws -> T
  ) throws -> [T] {
    depth += 1
    defer { depth -= 1 }
    guard depth < 512 else { throw error("JSON nested too deeply") }
    index += 1
    var items: [T] = []
    skipWhitespace()
    if index < bytes.count && bytes[index] == UInt8(ascii: close) {
      index += 1
      return items
    }
    while true {
      skipWhitespace()
      items.append(try element(&self))
      skipWhitespace()
      guard index < bytes.count else { throw error("unexpected end of JSON") }
      if bytes[index] == UInt8(ascii: ",") {
        index += 1
      } else if bytes[index] == UInt8(ascii: close) {
        index += 1
        return items
      } else {
        throw error("expected ',' or '\(close)'")
      }
    }
  }

  mutating func readNumber() throws -> JinjaValue {
    let start = index
    var isFloat = false
    while index < bytes.count {
      let b = bytes[index]
      if b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
        isFloat = true
      } else if !(b >= 0x30 && b <= 0x39) && b != UInt8(ascii: "-") && b != UInt8(ascii: "+") {
        break
      }
      index += 1
    }
    let text = String(decoding: bytes[start..<index], as: UTF8.self)
    if text == "-" && bytes[index...].starts(with: "Infinity".utf8) {
      index += 8
      return .double(-.infinity)
    }
    if !isFloat, let value = Int(text) { return .int(value) }
    guard !text.isEmpty, let value = Double(text) else { throw error("invalid number '\(text)'") }
    return .double(value)
  }

  mutating func readString() throws -> JinjaValue {
    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string") }
    index += 1
    var out: [UInt8] = []
    while index < bytes.count {
      let b = bytes[index]
      index += 1
      if b == UInt8(ascii: "\"") { return .string(String(decoding: out, as: UTF8.self)) }
      guard b == UInt8(ascii: "\\") else {
        out.append(b)
        continue
      }
      guard index < bytes.count else { break }
      let e = bytes[index]
      index += 1
      let simple: [UInt8: UInt8] = [
        UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F, UInt8(ascii: "b"): 0x08,
        UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
      ]
      if let mapped = simple[e] {
        out.append(mapped)
        continue
      }
      guard e == UInt8(ascii: "u") else { throw error("invalid escape") }
      var unit = try readHex4()
      if (0xD800..<0xDC00).contains(unit), bytes[index...].starts(with: "\\u".utf8) {
        index += 2
        let low = try readHex4()
        if (0xDC00..<0xE000).contains(low) {
          unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        } else {
          out.append(contentsOf: String(Unicode.Scalar(0xFFFD)!).utf8)
          unit = low
        }
      }
      out.append(contentsOf: String(Unicode.Scalar(unit) ?? "\u{FFFD}").utf8)
    }
    throw error("unterminated string")
  }

  mutating func readHex4() throws -> UInt32 {
    guard index + 4 <= bytes.count,
      let value = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16)
    else { throw error("invalid \\u escape") }
    index += 4
    return value
  }
}
