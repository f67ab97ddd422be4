import Foundation

/// Builds the statement tree from tokens, following jinja2's `Parser` (statements here, expressions in
/// `JinjaParser+Expressions.swift`). Tags: `if`, `for`, `set`, `macro`, `call`, `filter`, `with`, `print`,
/// `break`, `continue` (the loopcontrols extension) and transformers' `generation`.
struct JinjaParser {
  var tokens: [JinjaToken]
  var index = 0
  /// Open tags, innermost last, for "unexpected end of template" messages.
  var tagStack: [String] = []
  /// End tags the enclosing blocks are waiting for, innermost last.
  var endTokenStack: [[String]] = []
  /// How many `for` bodies enclose the current statement; `break` and `continue` need one.
  var loopDepth = 0
  /// How many expressions and blocks enclose the current token (`descend()`).
  var depth = 0

  /// The deepest nesting of parentheses, brackets, unary operators, `not`s, `else` branches and blocks a template
  /// may have. Deeper templates would exhaust the stack of the parser or of the interpreter that walks the tree;
  /// jinja2 stops at Python's recursion limit, at a similar depth.
  static let maxDepth = 100

  static func parse(_ source: String) throws -> [JinjaNode] {
    var parser = JinjaParser(tokens: try JinjaLexer.tokenize(source))
    let body = try parser.subparse(endTokens: nil)
    try JinjaValidator.validate(body)
    return body
  }

  var current: JinjaToken { tokens[index] }

  func look(_ offset: Int = 1) -> JinjaToken { tokens[min(index + offset, tokens.count - 1)] }

  @discardableResult
  mutating func advance() -> JinjaToken {
    let token = tokens[index]
    if index < tokens.count - 1 { index += 1 }
    return token
  }

  func fail(_ message: String, _ token: JinjaToken? = nil) -> ChatTemplateError {
    let token = token ?? current
    return .syntax(message: message, line: token.line, column: token.column)
  }

  mutating func skipIf(op symbol: String) -> Bool {
    guard current.isOp(symbol) else { return false }
    advance()
    return true
  }

  mutating func skipIf(name word: String) -> Bool {
    guard current.isName(word) else { return false }
    advance()
    return true
  }

  /// Consumes a token of `kind` (and `text`, if given) or fails as jinja2's `TokenStream.expect`.
  @discardableResult
  mutating func expect(_ kind: JinjaToken.Kind, _ text: String? = nil) throws -> JinjaToken {
    if current.kind == kind && (text == nil || current.text == text) { return advance() }
    let wanted = text ?? JinjaToken(kind, line: 0, column: 0).description
    if current.kind == .eof { throw fail("unexpected end of template, expected '\(wanted)'.") }
    throw fail("expected token '\(wanted)', got '\(current.description)'")
  }

  // MARK: - Statements

  /// Statements up to a block tag whose name is in `endTokens`, which is left as the current token.
  mutating func subparse(endTokens: [String]?) throws -> [JinjaNode] {
    var body: [JinjaNode] = []
    if let endTokens { endTokenStack.append(endTokens) }
    defer { if endTokens != nil { endTokenStack.removeLast() } }
    while current.kind != .eof {
      switch current.kind {
      case .data:
        if case .text(let previous)? = body.last {
          body[body.count - 1] = .text(previous + current.text)
        } else {
          body.append(.text(current.text))
        }
        advance()
      case .variableBegin:
        advance()
        let line = current.line
        body.append(.output(try parseTuple(), line: line))
        try expect(.variableEnd)
      case .blockBegin:
        advance()
        if let endTokens, current.kind == .name, endTokens.contains(current.text) { return body }
        body.append(try parseStatement())
        try expect(.blockEnd)
      default:
        throw fail("unexpected '\(current.description)'")
      }
    }
    return body
  }

  /// A block body: `%}`, statements, then the end tag (consumed when `dropNeedle`).
  mutating func parseStatements(_ endTokens: [String], dropNeedle: Bool = false) throws -> [JinjaNode] {
    _ = skipIf(op: ":")
    try expect(.blockEnd)
    let body = try subparse(endTokens: endTokens)
    if current.kind == .eof { throw failEOF(endTokens) }
    if dropNeedle { advance() }
    return body
  }

  func failEOF(_ endTokens: [String]) -> ChatTemplateError {
    var message = "Unexpected end of template."
    let looking = endTokens.map { "'\($0)'" }.joined(separator: " or ")
    message += " Jinja was looking for the following tags: \(looking)."
    if let innermost = tagStack.last { message += " The innermost block that needs to be closed is '\(innermost)'." }
    return fail(message)
  }

  /// Enters one more level of nesting; callers leave it with `defer { depth -= 1 }`.
  mutating func descend() throws {
    depth += 1
    guard depth <= Self.maxDepth else { throw fail("expressions or blocks nested more than \(Self.maxDepth) deep") }
  }

  mutating func parseStatement() throws -> JinjaNode {
    let token = current
    guard token.kind == .name else { throw fail("tag name expected") }
    try descend()
    defer { depth -= 1 }
    tagStack.append(token.text)
    defer { tagStack.removeLast() }
    switch token.text {
    case "if": return try parseIf()
    case "for": return try parseFor()
    case "set": return try parseSet()
    case "macro": return try parseMacro()
    case "call": return try parseCallBlock()
    case "filter":
      advance()
      let filters = try parseFilterChain(startInline: true)
      return .filterBlock(
        filters: filters, body: try parseStatements(["endfilter"], dropNeedle: true), line: token.line)
    case "with": return try parseWith()
    case "print":
      advance()
      var items: [JinjaExpr] = []
      while current.kind != .blockEnd {
        if !items.isEmpty { try expect(.op, ",") }
        items.append(try parseExpression())
      }
      return .with([], body: items.map { .output($0, line: token.line) }, line: token.line)
    case "break", "continue":
      advance()
      guard loopDepth > 0 else { throw fail("'\(token.text)' outside loop", token) }
      return token.text == "break" ? .breakLoop(line: token.line) : .continueLoop(line: token.line)
    case "generation":
      // transformers' AssistantTracker: the body renders as is (in a scope of its own, like a call block).
      advance()
      return .with([], body: try parseStatements(["endgeneration"], dropNeedle: true), line: token.line)
    case "block", "extends", "include", "import", "from", "autoescape":
      throw ChatTemplateError.unsupported(feature: "the '\(token.text)' tag", line: token.line)
    default:
      tagStack.removeLast()
      defer { tagStack.append(token.text) }
      var message = "Encountered unknown tag '\(token.text)'."
      if let looking = endTokenStack.last {
        let names = looking.map { "'\($0)'" }.joined(separator: " or ")
        message += " Jinja was looking for the following tags: \(names)."
      }
      if let innermost = tagStack.last { message += " The innermost block that needs to be closed is '\(innermost)'." }
      throw fail(message, token)
    }
  }

  mutating func parseIf() throws -> JinjaNode {
    let line = advance().line
    var branches: [(JinjaExpr, [JinjaNode])] = []
    var otherwise: [JinjaNode] = []
    while true {
      let test = try parseTuple(withCondition: false)
      branches.append((test, try parseStatements(["elif", "else", "endif"])))
      let token = advance()
      if token.text == "elif" { continue }
      if token.text == "else" { otherwise = try parseStatements(["endif"], dropNeedle: true) }
      break
    }
    return .ifChain(branches: branches, otherwise: otherwise, line: line)
  }

  mutating func parseFor() throws -> JinjaNode {
    let line = advance().line
    let target = try parseAssignTarget(extraEnd: ["in"])
    try expect(.name, "in")
    let iterable = try parseTuple(withCondition: false, extraEnd: ["recursive"])
    let filter = skipIf(name: "if") ? try parseExpression() : nil
    if current.isName("recursive") { throw ChatTemplateError.unsupported(feature: "recursive loops", line: line) }
    loopDepth += 1
    let body = try parseStatements(["endfor", "else"])
    loopDepth -= 1
    let otherwise = advance().text == "endfor" ? [] : try parseStatements(["endfor"], dropNeedle: true)
    let loop = JinjaForLoop(target: target, iterable: iterable, filter: filter, body: body, otherwise: otherwise)
    return .forLoop(loop, line: line)
  }

  mutating func parseSet() throws -> JinjaNode {
    let line = advance().line
    let target = try parseAssignTarget(withNamespace: true)
    if skipIf(op: "=") { return .assign(target, try parseTuple(), line: line) }
    let filters = try parseFilterChain(startInline: false)
    return .assignBlock(target, filters: filters, body: try parseStatements(["endset"], dropNeedle: true), line: line)
  }

  mutating func parseMacro() throws -> JinjaNode {
    let line = advance().line
    let name = try expect(.name).text
    let parameters = try parseSignature()
    let savedDepth = loopDepth
    loopDepth = 0
    defer { loopDepth = savedDepth }
    let body = try parseStatements(["endmacro"], dropNeedle: true)
    return .macro(JinjaMacro(name: name, parameters: parameters, body: body), line: line)
  }

  mutating func parseCallBlock() throws -> JinjaNode {
    let line = advance().line
    let parameters = current.isOp("(") ? try parseSignature() : []
    let callee = try parseExpression()
    guard case .call = callee else { throw fail("expected call", tokens[index - 1]) }
    let savedDepth = loopDepth
    loopDepth = 0
    defer { loopDepth = savedDepth }
    let body = try parseStatements(["endcall"], dropNeedle: true)
    return .callBlock(callee, callerParameters: parameters, body: body, line: line)
  }

  mutating func parseWith() throws -> JinjaNode {
    let line = advance().line
    var assignments: [(JinjaTarget, JinjaExpr)] = []
    while current.kind != .blockEnd {
      if !assignments.isEmpty { try expect(.op, ",") }
      let target = try parseAssignTarget()
      try expect(.op, "=")
      assignments.append((target, try parseExpression()))
    }
    return .with(assignments, body: try parseStatements(["endwith"], dropNeedle: true), line: line)
  }

  /// `(a, b=default, ...)` of a macro or call block.
  mutating func parseSignature() throws -> [(String, JinjaExpr?)] {
    var parameters: [(String, JinjaExpr?)] = []
    try expect(.op, "(")
    while !current.isOp(")") {
      if !parameters.isEmpty { try expect(.op, ",") }
      let name = try expect(.name).text
      if skipIf(op: "=") {
        parameters.append((name, try parseExpression()))
      } else {
        if parameters.last?.1 != nil { throw fail("non-default argument follows default argument") }
        parameters.append((name, nil))
      }
    }
    try expect(.op, ")")
    return parameters
  }

  /// A name, `ns.attr` (with `withNamespace`) or a tuple of names.
  mutating func parseAssignTarget(withNamespace: Bool = false, extraEnd: [String] = []) throws -> JinjaTarget {
    var names: [String] = []
    var isTuple = false
    while true {
      if !names.isEmpty { try expect(.op, ",") }
      if current.kind == .blockEnd || current.isOp(")") || (current.kind == .name && extraEnd.contains(current.text)) {
        break
      }
      let token = try expect(.name)
      if ["true", "false", "True", "False", "none", "None"].contains(token.text) {
        throw fail("can't assign to 'const'", token)
      }
      if withNamespace && names.isEmpty && current.isOp(".") {
        advance()
        return .attribute(token.text, try expect(.name).text)
      }
      names.append(token.text)
      if current.isOp(",") { isTuple = true } else { break }
    }
    guard !names.isEmpty else { throw fail("Expected an expression, got '\(current.description)'") }
    return isTuple ? .tuple(names) : .name(names[0])
  }
}
