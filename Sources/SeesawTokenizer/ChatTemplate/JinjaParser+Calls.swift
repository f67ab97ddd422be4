import Foundation

/// Argument lists and the two call-like postfixes: `f(a, k=v, *xs, **kw)`, `| filter(args)` and `is test args`.
extension JinjaParser {
  mutating func parseCallArguments() throws -> JinjaCallArguments {
    let open = try expect(.op, "(")
    var arguments = JinjaCallArguments()
    var requireComma = false
    while !current.isOp(")") {
      if requireComma {
        try expect(.op, ",")
        if current.isOp(")") { break }
      }
      let invalid = fail("invalid syntax for function call expression", open)
      if skipIf(op: "*") {
        guard arguments.splat == nil && arguments.keywordSplat == nil else { throw invalid }
        arguments.splat = try parseExpression()
      } else if skipIf(op: "**") {
        guard arguments.keywordSplat == nil else { throw invalid }
        arguments.keywordSplat = try parseExpression()
      } else if current.kind == .name && look().isOp("=") {
        guard arguments.keywordSplat == nil else { throw invalid }
        let key = advance().text
        advance()
        arguments.keywords.append((key, try parseExpression()))
      } else {
        guard arguments.splat == nil && arguments.keywordSplat == nil && arguments.keywords.isEmpty else {
          throw invalid
        }
        arguments.positional.append(try parseExpression())
      }
      requireComma = true
    }
    try expect(.op, ")")
    return arguments
  }

  /// `| a | b(args)`, or with `startInline` the `a | b` of `{% filter a | b %}`.
  mutating func parseFilterChain(startInline: Bool) throws -> [JinjaFilterCall] {
    var calls: [JinjaFilterCall] = []
    var inline = startInline
    while current.isOp("|") || inline {
      if !inline { advance() }
      inline = false
      let token = try expect(.name)
      var name = token.text
      while skipIf(op: ".") { name += "." + (try expect(.name).text) }
      let arguments = current.isOp("(") ? try parseCallArguments() : JinjaCallArguments()
      calls.append(JinjaFilterCall(filter: JinjaFilter(name: name), name: name, arguments: arguments, line: token.line))
    }
    return calls
  }

  mutating func parseTest(_ node: JinjaExpr) throws -> JinjaExpr {
    let line = advance().line
    let negated = skipIf(name: "not")
    var name = try expect(.name).text
    while skipIf(op: ".") { name += "." + (try expect(.name).text) }
    var arguments = JinjaCallArguments()
    if current.isOp("(") {
      arguments = try parseCallArguments()
    } else if [.name, .string, .integer, .float].contains(current.kind) || current.isOp("[") || current.isOp("{")
      || current.isOp("(")
    {
      if !current.isName("else") && !current.isName("or") && !current.isName("and") {
        if current.isName("is") { throw fail("You cannot chain multiple tests with is") }
        arguments.positional = [try parsePostfix(try parsePrimary())]
      }
    }
    let test = JinjaExpr.test(
      node, JinjaTestCall(test: JinjaTest(name: name), name: name, arguments: arguments, line: line))
    return negated ? .not(test) : test
  }
}
