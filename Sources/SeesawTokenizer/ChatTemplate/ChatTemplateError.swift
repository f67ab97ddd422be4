import Foundation

/// Everything that can go wrong parsing or rendering a chat template. Lines are 1-based lines of the template
/// source; runtime errors name the line of the tag or `{{ }}` expression that failed, as jinja2's tracebacks do.
public enum ChatTemplateError: Error, LocalizedError, Equatable {
  /// The template is not valid Jinja: a bad token, an unclosed block, an unknown tag.
  case syntax(message: String, line: Int, column: Int)
  /// A `|name` filter that neither jinja2 nor this engine knows.
  case unknownFilter(name: String, line: Int)
  /// An `is name` test that neither jinja2 nor this engine knows.
  case unknownTest(name: String, line: Int)
  /// A jinja2 feature this engine does not implement (`extends`, `include`, recursive loops, some filters).
  case unsupported(feature: String, line: Int)
  /// The template called `raise_exception(message)`, usually to reject a conversation it cannot format.
  case raised(message: String, line: Int)
  /// An operation on an undefined value other than printing, testing or iterating it (`x.attr` on a missing `x`).
  case undefinedValue(message: String, line: Int)
  /// A value of the wrong type for an operation (`'a' + 1`, iterating a number), or another failure jinja2
  /// reports from Python (`ValueError`, `ZeroDivisionError`, a sandbox `SecurityError`).
  case typeError(message: String, line: Int)
  /// JSON given as a template variable (`JinjaValue(json:)`) is malformed; `line` is the JSON text's line.
  case invalidJSON(message: String, line: Int)

  /// The template line the error points at.
  public var line: Int {
    switch self {
    case .syntax(_, let line, _), .unknownFilter(_, let line), .unknownTest(_, let line),
      .unsupported(_, let line), .raised(_, let line), .undefinedValue(_, let line), .typeError(_, let line),
      .invalidJSON(_, let line):
      return line
    }
  }

  public var errorDescription: String? {
    switch self {
    case .syntax(let message, let line, let column): return "chat template line \(line):\(column): \(message)"
    case .unknownFilter(let name, let line): return "chat template line \(line): no filter named '\(name)'"
    case .unknownTest(let name, let line): return "chat template line \(line): no test named '\(name)'"
    case .unsupported(let feature, let line): return "chat template line \(line): unsupported: \(feature)"
    case .raised(let message, let line): return "chat template line \(line): \(message)"
    case .undefinedValue(let message, let line): return "chat template line \(line): \(message)"
    case .typeError(let message, let line): return "chat template line \(line): \(message)"
    case .invalidJSON(let message, let line): return "JSON line \(line): \(message)"
    }
  }
}

/// A runtime failure before it knows its line; the interpreter adds the line of the statement that ran it.
struct JinjaRuntimeError: Error {
  enum Kind { case raised, undefined, type, unknownFilter, unknownTest, unsupported }
  let kind: Kind
  let message: String

  static func type(_ message: String) -> JinjaRuntimeError { .init(kind: .type, message: message) }
  static func undefined(_ hint: String) -> JinjaRuntimeError { .init(kind: .undefined, message: hint) }

  func at(line: Int) -> ChatTemplateError {
    switch kind {
    case .raised: return .raised(message: message, line: line)
    case .undefined: return .undefinedValue(message: message, line: line)
    case .type: return .typeError(message: message, line: line)
    case .unknownFilter: return .unknownFilter(name: message, line: line)
    case .unknownTest: return .unknownTest(name: message, line: line)
    case .unsupported: return .unsupported(feature: message, line: line)
    }
  }
}
