import Foundation

/// An expression of the template, as jinja2's parser builds it.
indirect enum JinjaExpr: Sendable {
  enum BinaryOperator: Sendable { case add, subtract, multiply, divide, floorDivide, modulo, power }
  enum CompareOperator: Sendable { case equal, notEqual, less, lessEqual, greater, greaterEqual, contains, notContains }

  case constant(JinjaValue)
  case name(String)
  /// `a.b`: jinja2's getattr, which falls back to `a['b']`.
  case attribute(JinjaExpr, String)
  /// `a[b]`: jinja2's getitem, which falls back to `a.b` for string keys.
  case item(JinjaExpr, JinjaExpr)
  /// `a[start:stop:step]`.
  case slice(JinjaExpr, start: JinjaExpr?, stop: JinjaExpr?, step: JinjaExpr?)
  case list([JinjaExpr])
  /// `(a, b)`; evaluates to an array (Python's tuples and lists differ only when printed).
  case tuple([JinjaExpr])
  case dict([(JinjaExpr, JinjaExpr)])
  case negate(JinjaExpr)
  case plus(JinjaExpr)
  case not(JinjaExpr)
  case binary(BinaryOperator, JinjaExpr, JinjaExpr)
  case and(JinjaExpr, JinjaExpr)
  case or(JinjaExpr, JinjaExpr)
  /// `a < b <= c` compares pairwise, as Python does.
  case compare(JinjaExpr, [(CompareOperator, JinjaExpr)])
  /// `a ~ b ~ c`: the `str()` of each, joined.
  case concat([JinjaExpr])
  /// `then if test else otherwise`; without `else` the result is undefined when the test fails.
  case conditional(test: JinjaExpr, then: JinjaExpr, otherwise: JinjaExpr?, line: Int)
  case call(JinjaExpr, JinjaCallArguments)
  /// `value | name(args)`; value is nil for the filter chain of `{% set x | f %}` and `{% filter f %}`.
  case filter(JinjaExpr?, JinjaFilterCall)
  /// `value is name(args)` (negated tests are wrapped in `not`).
  case test(JinjaExpr, JinjaTestCall)
}

/// Arguments of a call, filter or test: `f(a, b, key=c, *rest, **options)`.
struct JinjaCallArguments: Sendable {
  var positional: [JinjaExpr] = []
  var keywords: [(String, JinjaExpr)] = []
  var splat: JinjaExpr? = nil
  var keywordSplat: JinjaExpr? = nil
}

struct JinjaFilterCall: Sendable {
  /// Nil when the name is unknown but sits under an `if`, where jinja2 only fails if the filter runs.
  let filter: JinjaFilter?
  let name: String
  let arguments: JinjaCallArguments
  let line: Int
}

struct JinjaTestCall: Sendable {
  /// Nil when the name is unknown but sits under an `if`, where jinja2 only fails if the test runs.
  let test: JinjaTest?
  let name: String
  let arguments: JinjaCallArguments
  let line: Int
}

/// Where `{% for %}` and `{% set %}` store values.
enum JinjaTarget: Sendable {
  case name(String)
  /// `ns.attr`: only valid on namespace objects.
  case attribute(String, String)
  /// `a, b`: unpacks a sequence of that length.
  case tuple([String])
}

struct JinjaForLoop: Sendable {
  let target: JinjaTarget
  let iterable: JinjaExpr
  /// The `if` of `{% for x in xs if cond %}`: filtered items do not count in `loop.index` or `loop.length`.
  let filter: JinjaExpr?
  let body: [JinjaNode]
  let otherwise: [JinjaNode]
}

struct JinjaMacro: Sendable {
  let name: String
  let parameters: [(String, JinjaExpr?)]
  let body: [JinjaNode]
}

/// A statement of the template. `line` is the tag's (or the `{{ }}` expression's) line for runtime errors.
indirect enum JinjaNode: Sendable {
  case text(String)
  case output(JinjaExpr, line: Int)
  case ifChain(branches: [(JinjaExpr, [JinjaNode])], otherwise: [JinjaNode], line: Int)
  case forLoop(JinjaForLoop, line: Int)
  case assign(JinjaTarget, JinjaExpr, line: Int)
  /// `{% set x | filters %}body{% endset %}`: the filters apply to the rendered body.
  case assignBlock(JinjaTarget, filters: [JinjaFilterCall], body: [JinjaNode], line: Int)
  case macro(JinjaMacro, line: Int)
  /// `{% call(params) callee(args) %}body{% endcall %}`: the body is `caller()` inside the macro.
  case callBlock(JinjaExpr, callerParameters: [(String, JinjaExpr?)], body: [JinjaNode], line: Int)
  case filterBlock(filters: [JinjaFilterCall], body: [JinjaNode], line: Int)
  /// `{% with a = 1 %}...{% endwith %}`: assignments in a scope of their own.
  case with([(JinjaTarget, JinjaExpr)], body: [JinjaNode], line: Int)
  case breakLoop(line: Int)
  case continueLoop(line: Int)
}
