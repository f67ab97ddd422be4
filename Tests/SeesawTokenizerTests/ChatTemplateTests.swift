import Foundation
import Testing

@testable import SeesawTokenizer

/// Tests/Fixtures/chat-templates: model templates (`{name}.jinja`) and transformers' renderings of shared
/// conversations (`renderings.json`), with each template's special tokens; a token it does not list is undefined.
enum ChatTemplateFixtures {
  struct Rendering: CustomTestStringConvertible, Sendable {
    let template: String
    let conversation: String
    let addGenerationPrompt: Bool
    let source: String
    let context: [String: JinjaValue]
    /// The expected text, or nil when transformers raised.
    let rendered: String?
    /// The `raise_exception` text when it raised.
    let message: String?

    var testDescription: String { "\(template)/\(conversation)/\(addGenerationPrompt ? "gen" : "nogen")" }
  }

  static let directory = JinjaGoldens.directory.appendingPathComponent("chat-templates")

  static let renderings: [Rendering] = {
    guard let text = try? String(contentsOf: directory.appendingPathComponent("renderings.json"), encoding: .utf8),
      case .object(let root)? = try? JinjaValue(json: text), case .object(let conversations)? = root["conversations"],
      case .object(let templates)? = root["templates"]
    else { return [] }
    var result: [Rendering] = []
    for (name, entry) in templates.pairs {
      guard case .object(let template) = entry, case .string(let file)? = template["file"],
        let source = try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8),
        case .array(let items)? = template["renderings"]
      else { continue }
      var tokens: [(String, JinjaValue)] = []
      if case .object(let variables)? = template["variables"] { tokens = variables.pairs.map { ($0.key, $0.value) } }
      for case .object(let item) in items {
        guard case .string(let conversation)? = item["conversation"], let messages = conversations[conversation],
          case .bool(let generation)? = item["add_generation_prompt"]
        else { continue }
        var context: [String: JinjaValue] = [
          "messages": messages, "add_generation_prompt": .bool(generation), "tools": .none, "documents": .none,
        ]
        for (key, value) in tokens { context[key] = value }
        var rendered: String? = nil
        if case .string(let text)? = item["rendered"] { rendered = text }
        var message: String? = nil
        if case .string(let text)? = item["message"] { message = text }
        result.append(
          Rendering(
            template: name, conversation: conversation, addGenerationPrompt: generation, source: source,
            context: context, rendered: item["error"] == .bool(true) ? nil : rendered, message: message))
      }
    }
    return result
  }()
}

@Suite("Chat templates render as transformers does")
struct ChatTemplateTests {
  static let chatML = """
    {% for message in messages %}\
    {{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}\
    {% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
    """

  @Test("the model templates' renderings fixture is present and covers five templates")
  func renderingsLoad() {
    #expect(ChatTemplateFixtures.renderings.count >= 5 * 18)
    #expect(
      Set(ChatTemplateFixtures.renderings.map(\.template)) == ["smollm2", "llama2", "llama3", "mistral", "qwen2"])
  }

  @Test(
    "every model template renders every conversation exactly, or raises where transformers did",
    arguments: ChatTemplateFixtures.renderings)
  func modelRendering(_ rendering: ChatTemplateFixtures.Rendering) throws {
    let template = try ChatTemplate(source: rendering.source)
    if let expected = rendering.rendered {
      #expect(try template.render(context: rendering.context) == expected)
    } else {
      #expect {
        _ = try template.render(context: rendering.context)
      } throws: { error in
        guard case ChatTemplateError.raised(let message, _) = error else { return false }
        return rendering.message == nil || message == rendering.message
      }
    }
  }

  @Test("render(messages:) passes messages, the generation flag, bos/eos tokens and tools = none")
  func renderMessages() throws {
    let template = try ChatTemplate(source: "{{ bos_token }}" + Self.chatML + "{{ eos_token }}|{{ tools is none }}")
    let messages = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi")]
    let text = try template.render(messages: messages, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>")
    let expected = "<s><|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
    #expect(text == expected + "<|im_start|>assistant\n</s>|True")
    let plain = try template.render(messages: messages, addGenerationPrompt: false)
    #expect(plain.hasSuffix("<|im_end|>\n|True"))
  }

  @Test("extra variables reach the template and override the named arguments")
  func extraVariables() throws {
    let template = try ChatTemplate(source: "{{ tools | tojson }} {{ date_string }} {{ bos_token }}")
    let tools = try JinjaValue(json: #"[{"name": "f", "parameters": {"b": 1, "a": 2.0}}]"#)
    let text = try template.render(
      messages: [], addGenerationPrompt: false, bosToken: "<s>",
      variables: ["tools": tools, "date_string": "1 Jan 2025", "bos_token": "[BOS]"])
    #expect(text == #"[{"name": "f", "parameters": {"b": 1, "a": 2.0}}] 1 Jan 2025 [BOS]"#)
  }

  @Test("a syntax error names the template line and column")
  func syntaxErrorLine() {
    #expect(throws: ChatTemplateError.syntax(message: "unexpected char '!' at 14", line: 2, column: 6)) {
      _ = try ChatTemplate(source: "line one\n{{ 1 ! 2 }}")
    }
    #expect {
      _ = try ChatTemplate(source: "a\n{% if x %}\nb")
    } throws: { error in
      guard case ChatTemplateError.syntax(let message, let line, _) = error else { return false }
      return line == 3 && message.contains("endif")
    }
  }

  @Test("raise_exception surfaces its message and the line of the call")
  func raiseException() throws {
    let source = "{% for m in messages %}\n{% if m.role == 'tool' %}\n{{ raise_exception('no tools: ' ~ m.role) }}\n"
    let template = try ChatTemplate(source: source + "{% endif %}{% endfor %}")
    #expect(throws: ChatTemplateError.raised(message: "no tools: tool", line: 3)) {
      _ = try template.render(messages: [ChatMessage(role: "tool", content: "x")], addGenerationPrompt: false)
    }
    let error = ChatTemplateError.raised(message: "no tools: tool", line: 3)
    #expect(error.localizedDescription == "chat template line 3: no tools: tool")
  }

  @Test("unknown filters fail at parse time, unsupported jinja2 features say so")
  func unknownNames() {
    #expect(throws: ChatTemplateError.unknownFilter(name: "shout", line: 1)) {
      _ = try ChatTemplate(source: "{{ x | shout }}")
    }
    #expect(throws: ChatTemplateError.unknownTest(name: "loud", line: 1)) {
      _ = try ChatTemplate(source: "{{ x is loud }}")
    }
    #expect(throws: ChatTemplateError.unsupported(feature: "the 'groupby' filter", line: 1)) {
      _ = try ChatTemplate(source: "{{ x | groupby('a') }}")
    }
    #expect(throws: ChatTemplateError.unsupported(feature: "the 'extends' tag", line: 1)) {
      _ = try ChatTemplate(source: "{% extends 'base.html' %}")
    }
  }

  @Test("strftime_now formats the local date with C strftime")
  func strftimeNow() throws {
    let year = Calendar.current.component(.year, from: Date())
    let template = try ChatTemplate(source: "{{ strftime_now('%Y') }}")
    #expect(try template.render(context: [:]) == String(year))
  }

  @Test("JSON variables keep key order, ints and floats; jsonString writes them back as Python does")
  func jsonRoundTrip() throws {
    let text = #"{"z": 1, "a": [1.5, 2.0, true, null, "é\n\"x\""], "m": {}}"#
    let value = try JinjaValue(json: text)
    guard case .object(let object) = value else {
      Issue.record("not an object")
      return
    }
    #expect(object.keys == ["z", "a", "m"])
    #expect(try value.jsonString() == text)
    #expect(throws: ChatTemplateError.self) { _ = try JinjaValue(json: "{\"a\": }") }
  }

  @Test("unbounded macro recursion and over-deep nesting throw instead of overflowing the stack (found by fuzzing)")
  func recursionLimits() throws {
    let recursive = try ChatTemplate(source: "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}")
    #expect {
      _ = try recursive.render(context: [:])
    } throws: { error in
      guard case .typeError(let message, line: 1) = error as? ChatTemplateError else { return false }
      return message.contains("recursion")
    }
    // Bounded recursion renders.
    let countdown = try ChatTemplate(
      source: "{% macro m(n) %}{{ n }}{% if n > 0 %}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(20) }}")
    #expect(try countdown.render(context: [:]) == (0...20).reversed().map(String.init).joined())
    let depth = JinjaParser.maxDepth
    func nested(_ n: Int, _ open: String, _ close: String) -> String {
      "{{ " + String(repeating: open, count: n) + "1" + String(repeating: close, count: n) + " }}"
    }
    #expect(try ChatTemplate(source: nested(depth - 10, "(", ")")).render(context: [:]) == "1")
    for (open, close) in [("(", ")"), ("[", "]"), ("-", ""), ("not ", "")] {
      #expect(throws: ChatTemplateError.self) { _ = try ChatTemplate(source: nested(50_000, open, close)) }
    }
    let blocks = String(repeating: "{% if true %}", count: 50_000) + String(repeating: "{% endif %}", count: 50_000)
    #expect(throws: ChatTemplateError.self) { _ = try ChatTemplate(source: blocks) }
  }

  @Test("format widths past a million and floats past 64-bit integers throw instead of trapping (found by fuzzing)")
  func hugeFormatWidths() throws {
    for source in [
      "{{ '%052222222222222222222222.2f' % 3.14159 }}", "{{ '%.99999999999999999999f' % 1.5 }}",
      "{{ '{:99999999999999999999d}'.format(7) }}", "{{ '%2000000d' % 1 }}",
      "{{ '%d' % 3888888888888888888888888888888888888888888888888888888.5 }}", "{{ '%x' % (1e300 * 1e300) }}",
    ] {
      #expect(throws: ChatTemplateError.self, "\(source)") { _ = try ChatTemplate(source: source).render(context: [:]) }
    }
    #expect(try ChatTemplate(source: "{{ '%05.2f|%-4s|' % (3.14159, 'ab') }}").render(context: [:]) == "03.14|ab  |")
    #expect(try ChatTemplate(source: "{{ '{:>6}'.format('x') }}").render(context: [:]) == "     x")
    #expect(try ChatTemplate(source: "{{ '%d|%x' % (-7.9, 255.5) }}").render(context: [:]) == "-7|ff")
    #expect(try ChatTemplate(source: "{{ 5 | round(-400) }}|{{ 1234 | round(-2) }}").render(context: [:]) == "0|1200")
  }

  @Test("a render that would build more than 64 MiB fails with the line (found by fuzzing: 1.2 GB from nested loops)")
  func sizeLimits() throws {
    let big = "{% set s = 'x' * 1000000 %}"
    for (source, line) in [
      ("\n{% for a in range(100) %}{{ 'y' * 1000000 }}{% endfor %}", 2),
      ("\n\n{% for a in 'abcdefgh' %}{% for b in 'abcdefgh' %}{% for c in 'abcdefgh' %}" + String(repeating: "z", count: 200_000)
        + "{% endfor %}{% endfor %}{% endfor %}", 3),
      ("{{ 'ab' * 100000000 }}", 1), ("{{ [1, 2] * 10000000 }}", 1), ("{{ 'x' * 9223372036854775807 }}", 1),
      (big + "{% set ns = namespace(s=s) %}{% for i in range(10) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", 1),
      (big + "{% set ns = namespace(s=s) %}{% for i in range(10) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", 1),
      (big + "{{ s.replace('x', 'abc' * 40) }}", 1), (big + "{{ s | replace('x', 'abc' * 40) }}", 1),
      (big + "{{ ([s] * 100) | join }}", 1), (big + "{{ ','.join([s] * 100) }}", 1),
      ("{{ 'x'.center(1000000000) }}", 1), ("{{ 'x' | center(1000000000) }}", 1), ("{{ 'x'.zfill(1000000000) }}", 1),
      ("{{ 'a\nb' | indent(1000000000) }}", 1), ("{{ [1] | tojson(indent=1000000000) }}", 1),
      ("{{ [1] | batch(1000000000, 0) | list }}", 1),
    ] {
      do {
        _ = try ChatTemplate(source: source).render(context: [:])
        Issue.record("rendered: \(source.prefix(80))")
      } catch let ChatTemplateError.typeError(message, at) {
        #expect(at == line && message.contains("limit"), "\(source.prefix(80)): line \(at): \(message)")
      }
    }
    // Just under: 60 MB of output, a 32 MB string, and a replace that shrinks.
    let ok = try ChatTemplate(
      source: "{% for a in range(60) %}{{ 'y' * 1000000 }}{% endfor %}{% set t = 'x' * 32000000 %}"
        + "{{ (t ~ 'x').replace('xx', 'x') | length }}"
    ).render(context: [:])
    #expect(ok.utf8.count == 60_000_000 + 8)
  }

  @Test("string reprs and tojson append in linear time to a long output (found by fuzzing: 40 s for 900 bytes)")
  func linearReprAppends() throws {
    // 90,000 reprs and JSON strings into one ~1.3 MB output: quadratic appends took minutes.
    let template = try ChatTemplate(
      source: "{% for i in range(300) %}{% for j in range(300) %}{{ ['a'] }}{{ 'b' | tojson }}{% endfor %}{% endfor %}")
    let start = ContinuousClock.now
    let rendered = try template.render(context: [:])
    #expect(rendered.utf8.count == 90_000 * 8)
    #expect(ContinuousClock.now - start < .seconds(10))
  }

  @Test("one parsed template renders concurrently from many threads")
  func concurrentRendering() throws {
    let template = try ChatTemplate(source: Self.chatML)
    let messages = (0..<4).map { ChatMessage(role: "user", content: "message \($0)") }
    let expected = try template.render(messages: messages, addGenerationPrompt: true)
    let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 64)
    defer { results.deallocate() }
    DispatchQueue.concurrentPerform(iterations: 64) { index in
      results[index] = (try? template.render(messages: messages, addGenerationPrompt: true)) == expected
    }
    #expect(results.allSatisfy { $0 })
  }
}
