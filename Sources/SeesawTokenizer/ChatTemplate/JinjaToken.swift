import Foundation

/// One token of a template, as jinja2's lexer yields them (comments and whitespace inside tags are dropped).
struct JinjaToken {
  enum Kind: Equatable {
    /// Template text outside tags, already trimmed by `-`, trim_blocks and lstrip_blocks.
    case data
    case variableBegin, variableEnd, blockBegin, blockEnd
    case name, string, integer, float
    /// An operator or punctuation: `+`, `//`, `==`, `(`, `.`, `|`, ...
    case op
    case eof
  }

  let kind: Kind
  /// The text of a name, operator or data token; the decoded contents of a string literal.
  let text: String
  /// The number of an integer or float literal.
  let number: JinjaValue
  let line: Int
  let column: Int

  init(_ kind: Kind, _ text: String = "", number: JinjaValue = .none, line: Int, column: Int) {
    self.kind = kind
    self.text = text
    self.number = number
    self.line = line
    self.column = column
  }

  /// True for a name token spelled `word` (`if`, `in`, `endfor`, ...).
  func isName(_ word: String) -> Bool { kind == .name && text == word }

  /// True for the operator `symbol`.
  func isOp(_ symbol: String) -> Bool { kind == .op && text == symbol }

  /// How jinja2 describes the token in "unexpected ..." messages.
  var description: String {
    switch kind {
    case .data: return "template data / text"
    case .variableBegin: return "begin of print statement"
    case .variableEnd: return "end of print statement"
    case .blockBegin: return "begin of statement block"
    case .blockEnd: return "end of statement block"
    case .eof: return "end of template"
    case .string, .integer, .float, .name, .op: return text
    }
  }
}
