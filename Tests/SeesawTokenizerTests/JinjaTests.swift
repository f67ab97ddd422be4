import Foundation
import Testing

@testable import SeesawTokenizer

/// The golden cases of Tests/Fixtures/jinja/cases.json (tools/make_jinja_goldens.py): each template rendered by
/// transformers' jinja2 environment, with the exact output or the kind, phase and line of the error.
enum JinjaGoldens {
  struct Case: CustomTestStringConvertible, Sendable {
    let name: String
    let template: String
    let variables: [String: JinjaValue]
    /// The rendered text, or nil when jinja2 raised.
    let output: String?
    let errorKind: String?
    /// `parse` (jinja2 failed to compile the template) or `render`.
    let errorPhase: String?
    let errorLine: Int?
    /// The text of a `raise_exception(...)`.
    let errorMessage: String?

    var testDescription: String { name }
  }

  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures")

  /// Every case, read with `JinjaValue(json:)` so variables keep their key order and int/float types.
  static let cases: [Case] = {
    let url = directory.appendingPathComponent("jinja/cases.json")
    guard let text = try? String(contentsOf: url, encoding: .utf8),
      case .object(let root)? = try? JinjaValue(json: text),
      case .array(let items)? = root["cases"]
    else { return [] }
    return items.compactMap { item in
      guard case .object(let fields) = item, case .string(let name)? = fields["name"],
        case .string(let template)? = fields["template"], case .object(let variables)? = fields["variables"]
      else { return nil }
      var error: JinjaObject? = nil
      if case .object(let object)? = fields["error"] { error = object }
      func text(_ value: JinjaValue?) -> String? {
        if case .string(let s)? = value { return s }
        return nil
      }
      var line: Int? = nil
      if case .int(let number)? = error?["line"] { line = number }
      return Case(
        name: name, template: template,
        variables: Dictionary(uniqueKeysWithValues: variables.pairs.map { ($0.key, $0.value) }),
        output: text(fields["output"]), errorKind: text(error?["kind"]), errorPhase: text(error?["phase"]),
        errorLine: line, errorMessage: text(error?["message"]))
    }
  }()

  /// The golden's name for an error case.
  static func kind(_ error: ChatTemplateError) -> String {
    switch error {
    case .syntax: return "syntax"
    case .unknownFilter: return "unknown_filter"
    case .unknownTest: return "unknown_test"
    case .unsupported: return "unsupported"
    case .raised: return "raise"
    case .undefinedValue: return "undefined"
    case .typeError: return "type"
    case .invalidJSON: return "json"
    }
  }
}

@Suite("Jinja interpreter matches transformers' jinja2")
struct JinjaTests {
  @Test("the golden file has a few hundred cases")
  func goldensLoad() {
    #expect(JinjaGoldens.cases.count >= 300)
  }

  @Test("every golden case renders exactly as jinja2 did, or fails the same way", arguments: JinjaGoldens.cases)
  func golden(_ golden: JinjaGoldens.Case) {
    var phase = "parse"
    do {
      let template = try ChatTemplate(source: golden.template)
      phase = "render"
      let output = try template.render(context: golden.variables)
      #expect(
        golden.output != nil, "\(golden.name): jinja2 raised \(golden.errorKind ?? "?"), got \(output.debugDescription)"
      )
      if let expected = golden.output {
        #expect(output == expected, "\(golden.name)")
      }
    } catch let error as ChatTemplateError {
      guard golden.output == nil else {
        Issue.record("\(golden.name): expected \(golden.output!.debugDescription), got \(error)")
        return
      }
      #expect(JinjaGoldens.kind(error) == golden.errorKind, "\(golden.name): \(error)")
      #expect(phase == golden.errorPhase, "\(golden.name): failed while \(phase): \(error)")
      if let line = golden.errorLine { #expect(error.line == line, "\(golden.name): \(error)") }
      if let message = golden.errorMessage, case .raised(let raised, _) = error {
        #expect(raised == message, "\(golden.name)")
      }
    } catch {
      Issue.record("\(golden.name): unexpected error \(error)")
    }
  }
}
