import Foundation

/// Variables visible at one point of a render. `for` bodies (each iteration), macros, call blocks, `with` and block
/// `set` get a child scope, so `{% set %}` inside them does not leak out; `if` does not, so it does leak.
/// `namespace()` objects are the way to carry values out of a loop, as in jinja2.
final class JinjaScope {
  var variables: [String: JinjaValue]
  let parent: JinjaScope?

  init(_ variables: [String: JinjaValue] = [:], parent: JinjaScope?) {
    self.variables = variables
    self.parent = parent
  }

  func lookup(_ name: String) -> JinjaValue? {
    var scope: JinjaScope? = self
    while let current = scope {
      if let value = current.variables[name] { return value }
      scope = current.parent
    }
    return nil
  }
}

/// Runs a parsed template: one instance per render call, never shared between threads.
final class JinjaInterpreter {
  enum Flow { case normal, breakLoop, continueLoop }

  /// Scopes that hold macros, which capture them back; emptied after the render to break those cycles.
  private var capturingScopes: [JinjaScope] = []
  /// Macro and `caller()` calls in progress.
  private var macroDepth = 0

  /// The deepest macro recursion a render may reach; past it the render fails as jinja2's does when it reaches
  /// Python's recursion limit, instead of overflowing the stack.
  static let maxMacroDepth = 50

  static func render(_ body: [JinjaNode], context: [String: JinjaValue]) throws -> String {
    let interpreter = JinjaInterpreter()
    let globals = JinjaScope(JinjaGlobals.functions, parent: nil)
    let scope = JinjaScope(context, parent: globals)
    defer { for scope in interpreter.capturingScopes { scope.variables.removeAll() } }
    var out = ""
    _ = try interpreter.execute(body, scope, &out)
    return out
  }

  /// Runs `body`, turning a line-less runtime error into one at `line`.
  @inline(__always)
  func located<T>(_ line: Int, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as JinjaRuntimeError {
      throw error.at(line: line)
    }
  }

  func execute(_ nodes: [JinjaNode], _ scope: JinjaScope, _ out: inout String) throws -> Flow {
    for node in nodes {
      switch node {
      case .text(let text):
        out += text
      case .output(let expr, let line):
        let value = try located(line) { try eval(expr, scope) }
        if case .string(let s) = value { out += s } else { JinjaRepr.appendStr(value, to: &out) }
        try checkOutput(out, line: line)
      case .ifChain(let branches, let otherwise, let line):
        var chosen = otherwise
        for (test, body) in branches {
          if try located(line, { try eval(test, scope).isTruthy }) {
            chosen = body
            break
          }
        }
        let flow = try execute(chosen, scope, &out)
        if flow != .normal { return flow }
      case .forLoop(let loop, let line):
        try runLoop(loop, line: line, scope, &out)
      case .assign(let target, let expr, let line):
        try located(line) { try assign(target, try eval(expr, scope), scope) }
      case .assignBlock(let target, let filters, let body, let line):
        var text = ""
        _ = try execute(body, JinjaScope(parent: scope), &text)
        try located(line) { try assign(target, try applyFilters(filters, to: .string(text), scope), scope) }
      case .macro(let macro, _):
        scope.variables[macro.name] = makeMacro(macro, scope)
      case .callBlock(let callee, let parameters, let body, let line):
        let caller = makeCaller(parameters: parameters, body: body, scope)
        let value = try located(line) { try callBlock(callee, caller: caller, scope) }
        JinjaRepr.appendStr(value, to: &out)
        try checkOutput(out, line: line)
      case .filterBlock(let filters, let body, let line):
        var text = ""
        _ = try execute(body, JinjaScope(parent: scope), &text)
        JinjaRepr.appendStr(try located(line) { try applyFilters(filters, to: .string(text), scope) }, to: &out)
        try checkOutput(out, line: line)
      case .with(let assignments, let body, let line):
        let inner = JinjaScope(parent: scope)
        for (target, expr) in assignments {
          try located(line) { try assign(target, try eval(expr, scope), inner) }
        }
        let flow = try execute(body, inner, &out)
        if flow != .normal { return flow }
      case .breakLoop:
        return .breakLoop
      case .continueLoop:
        return .continueLoop
      }
    }
    return .normal
  }

  private func runLoop(_ loop: JinjaForLoop, line: Int, _ scope: JinjaScope, _ out: inout String) throws {
    var items = try located(line) { try JinjaOperators.iterate(try eval(loop.iterable, scope)) }
    if let filter = loop.filter {
      items = try located(line) {
        try items.filter { item in
          let probe = JinjaScope(parent: scope)
          try assign(loop.target, item, probe)
          return try eval(filter, probe).isTruthy
        }
      }
    }
    guard !items.isEmpty else {
      _ = try execute(loop.otherwise, JinjaScope(parent: scope), &out)
      return
    }
    let length = items.count
    let cycle = JinjaLoopCycle()
    let cycleFunction = JinjaValue.function(
      JinjaFunction(name: "cycle") { _, arguments in
        guard !arguments.positional.isEmpty else { throw JinjaRuntimeError.type("no items for cycling given") }
        return arguments.positional[cycle.index % arguments.positional.count]
      })
    for (index, item) in items.enumerated() {
      cycle.index = index
      let iteration = JinjaScope(parent: scope)
      try located(line) { try assign(loop.target, item, iteration) }
      var info = JinjaObject()
      info["index"] = .int(index + 1)
      info["index0"] = .int(index)
      info["revindex"] = .int(length - index)
      info["revindex0"] = .int(length - index - 1)
      info["first"] = .bool(index == 0)
      info["last"] = .bool(index == length - 1)
      info["length"] = .int(length)
      info["depth"] = .int(1)
      info["depth0"] = .int(0)
      info["previtem"] = index > 0 ? items[index - 1] : .undefined(hint: "there is no previous item")
      info["nextitem"] = index < length - 1 ? items[index + 1] : .undefined(hint: "there is no next item")
      info["cycle"] = cycleFunction
      iteration.variables["loop"] = .object(info)
      if try execute(loop.body, iteration, &out) == .breakLoop { break }
      try checkOutput(out, line: line)
    }
  }

  /// Throws once the output passes `JinjaLimits.maxStringBytes`: checked after every `{{ }}`, call or filter block
  /// and loop iteration, the only ways a render's output outgrows its template.
  @inline(__always)
  func checkOutput(_ out: String, line: Int) throws {
    let bytes = out.utf8.count
    if bytes > JinjaLimits.maxStringBytes { throw JinjaLimits.exceeded("the rendered output", bytes).at(line: line) }
  }

  func assign(_ target: JinjaTarget, _ value: JinjaValue, _ scope: JinjaScope) throws {
    switch target {
    case .name(let name):
      scope.variables[name] = value
    case .tuple(let names):
      let items = try JinjaOperators.iterate(value)
      guard items.count == names.count else {
        throw JinjaRuntimeError.type(
          items.count < names.count
            ? "not enough values to unpack (expected \(names.count), got \(items.count))"
            : "too many values to unpack (expected \(names.count))")
      }
      for (name, item) in zip(names, items) { scope.variables[name] = item }
    case .attribute(let name, let attribute):
      guard case .namespace(let namespace)? = scope.lookup(name) else {
        throw JinjaRuntimeError.type("cannot assign attribute on non-namespace object")
      }
      if attribute.hasPrefix("_") {
        throw JinjaRuntimeError.type("Chat templates cannot store underscore-prefixed attributes on a namespace")
      }
      namespace.attributes[attribute] = value
    }
  }

  // MARK: - Macros

  private func makeMacro(_ macro: JinjaMacro, _ scope: JinjaScope) -> JinjaValue {
    capturingScopes.append(scope)
    return .function(
      JinjaFunction(name: macro.name) { interpreter, arguments in
        try interpreter.callMacro(macro.parameters, macro.body, definedIn: scope, arguments)
      })
  }

  private func makeCaller(parameters: [(String, JinjaExpr?)], body: [JinjaNode], _ scope: JinjaScope) -> JinjaValue {
    .function(
      JinjaFunction(name: "caller") { interpreter, arguments in
        try interpreter.callMacro(parameters, body, definedIn: scope, arguments)
      })
  }

  private func callBlock(_ callee: JinjaExpr, caller: JinjaValue, _ scope: JinjaScope) throws -> JinjaValue {
    guard case .call(let function, let argumentExprs) = callee else { return .none }
    var arguments = try evalArguments(argumentExprs, scope)
    arguments.keywords.append(("caller", caller))
    return try call(try eval(function, scope), arguments)
  }

  /// Binds arguments as jinja2 macros do: missing parameters take their default or are undefined; extra
  /// positional arguments land in `varargs`, extra keywords in `kwargs`, a `caller` keyword in `caller`.
  private func callMacro(
    _ parameters: [(String, JinjaExpr?)], _ body: [JinjaNode], definedIn scope: JinjaScope, _ arguments: JinjaArguments
  ) throws -> JinjaValue {
    macroDepth += 1
    defer { macroDepth -= 1 }
    guard macroDepth <= Self.maxMacroDepth else {
      throw JinjaRuntimeError.type(
        "maximum recursion depth exceeded: macros nested more than \(Self.maxMacroDepth) deep")
    }
    let local = JinjaScope(parent: scope)
    var extraKeywords = JinjaObject()
    var given: [String: JinjaValue] = [:]
    for (key, value) in arguments.keywords {
      if key == "caller" && !parameters.contains(where: { $0.0 == "caller" }) {
        local.variables["caller"] = value
      } else if parameters.contains(where: { $0.0 == key }) {
        given[key] = value
      } else {
        extraKeywords[key] = value
      }
    }
    for (index, (name, defaultExpr)) in parameters.enumerated() {
      if index < arguments.positional.count {
        local.variables[name] = arguments.positional[index]
      } else if let value = given[name] {
        local.variables[name] = value
      } else if let defaultExpr {
        local.variables[name] = try eval(defaultExpr, local)
      } else {
        local.variables[name] = .undefined(hint: "parameter '\(name)' was not provided")
      }
    }
    local.variables["varargs"] = .array(Array(arguments.positional.dropFirst(parameters.count)))
    local.variables["kwargs"] = .object(extraKeywords)
    var out = ""
    _ = try execute(body, local, &out)
    return .string(out)
  }
}

/// The position `loop.cycle(...)` picks from, shared by the iterations of one loop.
private final class JinjaLoopCycle {
  var index = 0
}
