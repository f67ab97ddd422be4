import Foundation

/// Expressions, loosest binding first, as in jinja2:
///
///     a if c else b  →  or  →  and  →  not  →  == != < <= > >= in, not in  →  + -  →  ~
///     →  * / // %  →  **  →  unary - +  →  primary with .attr [item] (call)  →  | filter, is test
///
/// Filters and tests bind tighter than arithmetic: `-x|abs` is `-(x|abs)`, `a + b is defined` is
/// `a + (b is defined)`.
extension JinjaParser {
  mutating func parseExpression(withCondition: Bool = true) throws -> JinjaExpr {
    withCondition ? try parseConditional() : try parseOr()
  }

  mutating func parseConditional() throws -> JinjaExpr {
    var line = current.line
    var expr = try parseOr()
    while skipIf(name: "if") {
      let test = try parseOr()
      var otherwise: JinjaExpr? = nil
      if skipIf(name: "else") {
        try descend()
        defer { depth -= 1 }
        otherwise = try parseConditional()
      }
      expr = .conditional(test: test, then: expr, otherwise: otherwise, line: line)
      line = current.line
    }
    return expr
  }

  mutating func parseOr() throws -> JinjaExpr {
    var left = try parseAnd()
    while skipIf(name: "or") { left = .or(left, try parseAnd()) }
    return left
  }

  mutating func parseAnd() throws -> JinjaExpr {
    var left = try parseNot()
    while skipIf(name: "and") { left = .and(left, try parseNot()) }
    return left
  }

  mutating func parseNot() throws -> JinjaExpr {
    if skipIf(name: "not") {
      try descend()
      defer { depth -= 1 }
      return .not(try parseNot())
    }
    return try parseCompare()
  }

  mutating func parseCompare() throws -> JinjaExpr {
    let expr = try parseMath1()
    var operations: [(JinjaExpr.CompareOperator, JinjaExpr)] = []
    let symbols: [String: JinjaExpr.CompareOperator] = [
      "==": .equal, "!=": .notEqual, "<": .less, "<=": .lessEqual, ">": .greater, ">=": .greaterEqual,
    ]
    while true {
      if current.kind == .op, let op = symbols[current.text] {
        advance()
        operations.append((op, try parseMath1()))
      } else if skipIf(name: "in") {
        operations.append((.contains, try parseMath1()))
      } else if current.isName("not") && look().isName("in") {
        advance()
        advance()
        operations.append((.notContains, try parseMath1()))
      } else {
        break
      }
    }
    return operations.isEmpty ? expr : .compare(expr, operations)
  }

  mutating func parseMath1() throws -> JinjaExpr {
    var left = try parseConcat()
    while current.isOp("+") || current.isOp("-") {
      let op: JinjaExpr.BinaryOperator = advance().text == "+" ? .add : .subtract
      left = .binary(op, left, try parseConcat())
    }
    return left
  }

  mutating func parseConcat() throws -> JinjaExpr {
    var parts = [try parseMath2()]
    while skipIf(op: "~") { parts.append(try parseMath2()) }
    return parts.count == 1 ? parts[0] : .concat(parts)
  }

  mutating func parseMath2() throws -> JinjaExpr {
    let symbols: [String: JinjaExpr.BinaryOperator] = ["*": .multiply, "/": .divide, "//": .floorDivide, "%": .modulo]
    var left = try parsePow()
    while current.kind == .op, let op = symbols[current.text] {
      advance()
      left = .binary(op, left, try parsePow())
    }
    return left
  }

  mutating func parsePow() throws -> JinjaExpr {
    var left = try parseUnary()
    while skipIf(op: "**") { left = .binary(.power, left, try parseUnary()) }
    return left
  }

  mutating func parseUnary(withFilter: Bool = true) throws -> JinjaExpr {
    try descend()
    defer { depth -= 1 }
    var node: JinjaExpr
    if skipIf(op: "-") {
      node = .negate(try parseUnary(withFilter: false))
    } else if skipIf(op: "+") {
      node = .plus(try parseUnary(withFilter: false))
    } else {
      node = try parsePrimary()
    }
    node = try parsePostfix(node)
    return withFilter ? try parseFilterExpression(node) : node
  }

  mutating func parsePrimary() throws -> JinjaExpr {
    let token = current
    switch token.kind {
    case .name:
      advance()
      switch token.text {
      case "true", "True": return .constant(.bool(true))
      case "false", "False": return .constant(.bool(false))
      case "none", "None": return .constant(.none)
      default: return .name(token.text)
      }
    case .string:
      var text = advance().text
      while current.kind == .string { text += advance().text }
      return .constant(.string(text))
    case .integer, .float:
      return .constant(advance().number)
    case .op where token.text == "(":
      advance()
      let expr = try parseTuple(explicitParentheses: true)
      try expect(.op, ")")
      return expr
    case .op where token.text == "[":
      advance()
      var items: [JinjaExpr] = []
      while !current.isOp("]") {
        if !items.isEmpty { try expect(.op, ",") }
        if current.isOp("]") { break }
        items.append(try parseExpression())
      }
      try expect(.op, "]")
      return .list(items)
    case .op where token.text == "{":
      advance()
      var pairs: [(JinjaExpr, JinjaExpr)] = []
      while !current.isOp("}") {
        if !pairs.isEmpty { try expect(.op, ",") }
        if current.isOp("}") { break }
        let key = try parseExpression()
        try expect(.op, ":")
        pairs.append((key, try parseExpression()))
      }
      try expect(.op, "}")
      return .dict(pairs)
    default:
      if token.kind == .eof { throw fail("unexpected end of template") }
      throw fail("unexpected '\(token.description)'")
    }
  }

  /// Expressions separated by commas become a tuple; one without a comma is itself.
  mutating func parseTuple(
    withCondition: Bool = true, extraEnd: [String] = [], explicitParentheses: Bool = false
  ) throws -> JinjaExpr {
    var items: [JinjaExpr] = []
    var isTuple = false
    while true {
      if !items.isEmpty { try expect(.op, ",") }
      if current.kind == .variableEnd || current.kind == .blockEnd || current.isOp(")")
        || (current.kind == .name && extraEnd.contains(current.text))
      {
        break
      }
      items.append(try parseExpression(withCondition: withCondition))
      if current.isOp(",") { isTuple = true } else { break }
    }
    if !isTuple, let only = items.first { return only }
    if items.isEmpty && !explicitParentheses {
      throw fail("Expected an expression, got '\(current.description)'")
    }
    return .tuple(items)
  }

  mutating func parsePostfix(_ start: JinjaExpr) throws -> JinjaExpr {
    var node = start
    while true {
      if current.isOp(".") || current.isOp("[") {
        node = try parseSubscript(node)
      } else if current.isOp("(") {
        node = .call(node, try parseCallArguments())
      } else {
        return node
      }
    }
  }

  mutating func parseFilterExpression(_ start: JinjaExpr) throws -> JinjaExpr {
    var node = start
    while true {
      if current.isOp("|") {
        for call in try parseFilterChain(startInline: false) { node = .filter(node, call) }
      } else if current.isName("is") {
        node = try parseTest(node)
      } else if current.isOp("(") {
        node = .call(node, try parseCallArguments())
      } else {
        return node
      }
    }
  }

  mutating func parseSubscript(_ node: JinjaExpr) throws -> JinjaExpr {
    let token = advance()
    if token.isOp(".") {
      let attribute = advance()
      if attribute.kind == .name { return .attribute(node, attribute.text) }
      guard attribute.kind == .integer else { throw fail("expected name or number", attribute) }
      return .item(node, .constant(attribute.number))
    }
    var arguments: [JinjaExpr] = []
    var slice: (JinjaExpr?, JinjaExpr?, JinjaExpr?)? = nil
    while !current.isOp("]") {
      if !arguments.isEmpty || slice != nil { try expect(.op, ",") }
      var parts: [JinjaExpr?] = []
      if !current.isOp(":") {
        let expr = try parseExpression()
        if !current.isOp(":") {
          arguments.append(expr)
          continue
        }
        parts.append(expr)
      } else {
        parts.append(nil)
      }
      advance()  // the first ':'
      let ends = { (parser: JinjaParser) in parser.current.isOp("]") || parser.current.isOp(",") }
      parts.append(current.isOp(":") || ends(self) ? nil : try parseExpression())
      if skipIf(op: ":") {
        parts.append(ends(self) ? nil : try parseExpression())
      } else {
        parts.append(nil)
      }
      slice = (parts[0], parts[1], parts[2])
    }
    try expect(.op, "]")
    if let slice, arguments.isEmpty { return .slice(node, start: slice.0, stop: slice.1, step: slice.2) }
    guard slice == nil else {
      throw ChatTemplateError.unsupported(feature: "multi-dimensional subscripts", line: token.line)
    }
    return arguments.count == 1 ? .item(node, arguments[0]) : .item(node, .tuple(arguments))
  }
}
