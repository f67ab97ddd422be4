import Foundation

/// jinja2's compile-time check for unknown filters and tests, run once after parsing.
///
/// jinja2 rejects an unknown name when it compiles the template, except inside an `if` (its test and branches)
/// or an inline `a if c else b`, where the name only fails if that code runs: templates guard optional filters
/// that way. Loops, macros and other blocks start a fresh frame, so the leniency stops at them.
enum JinjaValidator {
  static func validate(_ body: [JinjaNode]) throws {
    for node in body { try check(node, soft: false) }
  }

  private static func check(_ node: JinjaNode, soft: Bool) throws {
    switch node {
    case .text, .breakLoop, .continueLoop: break
    case .output(let expr, _): try check(expr, soft: soft)
    case .ifChain(let branches, let otherwise, _):
      for (test, body) in branches {
        try check(test, soft: true)
        for child in body { try check(child, soft: true) }
      }
      for child in otherwise { try check(child, soft: true) }
    case .forLoop(let loop, _):
      try check(loop.iterable, soft: soft)
      if let filter = loop.filter { try check(filter, soft: false) }
      for child in loop.body + loop.otherwise { try check(child, soft: false) }
    case .assign(_, let expr, _): try check(expr, soft: soft)
    case .assignBlock(_, let filters, let body, _), .filterBlock(let filters, let body, _):
      for filter in filters { try check(filter, soft: false) }
      for child in body { try check(child, soft: false) }
    case .macro(let macro, _):
      for case (_, let value?) in macro.parameters { try check(value, soft: false) }
      for child in macro.body { try check(child, soft: false) }
    case .callBlock(let callee, let parameters, let body, _):
      try check(callee, soft: soft)
      for case (_, let value?) in parameters { try check(value, soft: false) }
      for child in body { try check(child, soft: false) }
    case .with(let assignments, let body, _):
      for (_, value) in assignments { try check(value, soft: soft) }
      for child in body { try check(child, soft: false) }
    }
  }

  private static func check(_ filter: JinjaFilterCall, soft: Bool) throws {
    try check(filter.arguments, soft: soft)
    if filter.filter == nil && !soft { throw JinjaFilter.missing(filter.name).at(line: filter.line) }
  }

  private static func check(_ arguments: JinjaCallArguments, soft: Bool) throws {
    for expr in arguments.positional { try check(expr, soft: soft) }
    for (_, expr) in arguments.keywords { try check(expr, soft: soft) }
    if let splat = arguments.splat { try check(splat, soft: soft) }
    if let splat = arguments.keywordSplat { try check(splat, soft: soft) }
  }

  private static func check(_ expr: JinjaExpr, soft: Bool) throws {
    switch expr {
    case .constant, .name: break
    case .attribute(let base, _), .negate(let base), .plus(let base), .not(let base):
      try check(base, soft: soft)
    case .item(let base, let index):
      try check(base, soft: soft)
      try check(index, soft: soft)
    case .slice(let base, let start, let stop, let step):
      for part in [base, start, stop, step].compactMap({ $0 }) { try check(part, soft: soft) }
    case .list(let items), .tuple(let items), .concat(let items):
      for item in items { try check(item, soft: soft) }
    case .dict(let pairs):
      for (key, value) in pairs {
        try check(key, soft: soft)
        try check(value, soft: soft)
      }
    case .binary(_, let left, let right), .and(let left, let right), .or(let left, let right):
      try check(left, soft: soft)
      try check(right, soft: soft)
    case .compare(let first, let rest):
      try check(first, soft: soft)
      for (_, operand) in rest { try check(operand, soft: soft) }
    case .conditional(let test, let then, let otherwise, _):
      for part in [test, then, otherwise].compactMap({ $0 }) { try check(part, soft: true) }
    case .call(let callee, let arguments):
      try check(callee, soft: soft)
      try check(arguments, soft: soft)
    case .filter(let value, let call):
      if let value { try check(value, soft: soft) }
      try check(call, soft: soft)
    case .test(let value, let call):
      try check(value, soft: soft)
      try check(call.arguments, soft: soft)
      if call.test == nil && !soft {
        throw JinjaRuntimeError(kind: .unknownTest, message: call.name).at(line: call.line)
      }
    }
  }
}
