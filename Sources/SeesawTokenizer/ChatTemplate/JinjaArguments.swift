import Foundation

/// The evaluated arguments of a call, bound to parameters the way Python binds a signature.
struct JinjaArguments {
  var positional: [JinjaValue]
  var keywords: [(String, JinjaValue)]

  init(_ positional: [JinjaValue] = [], keywords: [(String, JinjaValue)] = []) {
    self.positional = positional
    self.keywords = keywords
  }

  /// Values for `parameters` in order, nil where the caller passed nothing. Extra arguments, unknown keywords and
  /// a parameter given twice raise Python's TypeError.
  func bind(_ parameters: [String], function: String) throws -> [JinjaValue?] {
    guard positional.count <= parameters.count else {
      throw JinjaRuntimeError.type(
        "\(function)() takes at most \(parameters.count) positional arguments but \(positional.count) were given")
    }
    var values: [JinjaValue?] = positional.map { $0 }
    values += Array(repeating: nil, count: parameters.count - positional.count)
    for (key, value) in keywords {
      guard let slot = parameters.firstIndex(of: key) else {
        throw JinjaRuntimeError.type("\(function)() got an unexpected keyword argument '\(key)'")
      }
      guard values[slot] == nil else {
        throw JinjaRuntimeError.type("\(function)() got multiple values for argument '\(key)'")
      }
      values[slot] = value
    }
    return values
  }

  /// Like `bind`, but a missing parameter among the first `required` raises TypeError.
  func bind(_ parameters: [String], required: Int, function: String) throws -> [JinjaValue?] {
    let values = try bind(parameters, function: function)
    for index in 0..<required where values[index] == nil {
      throw JinjaRuntimeError.type("\(function)() missing required argument: '\(parameters[index])'")
    }
    return values
  }

  /// The keyword arguments as an ordered object.
  var keywordObject: JinjaObject { JinjaObject(keywords) }
}

extension JinjaValue {
  /// The integer of an int (or bool) argument, or TypeError naming the function.
  func requireInt(_ what: String) throws -> Int {
    guard let value = integerValue else {
      throw JinjaRuntimeError.type("\(what) must be an integer, not '\(typeName)'")
    }
    return value
  }

  /// The text of a string argument, or TypeError.
  func requireString(_ what: String) throws -> String {
    guard case .string(let s) = self else {
      throw JinjaRuntimeError.type("\(what) must be str, not \(typeName)")
    }
    return s
  }
}
