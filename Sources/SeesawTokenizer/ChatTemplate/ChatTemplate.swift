import Foundation

/// A Hugging Face chat template (the Jinja `chat_template` of `tokenizer_config.json` or GGUF's
/// `tokenizer.chat_template`), parsed once and rendered per conversation.
///
/// Rendering matches transformers' `apply_chat_template(..., tokenize=False)`: a sandboxed jinja2 environment with
/// `trim_blocks` and `lstrip_blocks`, the loopcontrols extension, `raise_exception`, `strftime_now` and
/// transformers' `tojson`. `tools` and `documents` are `none` unless given, as transformers passes them.
///
///     let template = try ChatTemplate(source: jinja)
///     let prompt = try template.render(messages: [ChatMessage(role: "user", content: "Hi")],
///                                      addGenerationPrompt: true, bosToken: "<s>")
public struct ChatTemplate: Sendable {
  /// The template source as given.
  public let source: String
  private let body: [JinjaNode]

  /// Parses `source`; throws `ChatTemplateError.syntax` (with line and column), `.unknownFilter`, `.unknownTest`
  /// or `.unsupported` for templates that could never render.
  public init(source: String) throws {
    self.source = source
    body = try JinjaParser.parse(source)
  }

  /// Renders a conversation. `variables` are extra template variables (`tools`, `date_string`, a `messages` list
  /// with fields beyond role and content); they override the named arguments.
  public func render(
    messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String = "", eosToken: String = "",
    variables: [String: JinjaValue] = [:]
  ) throws -> String {
    var context: [String: JinjaValue] = [
      "messages": .array(messages.map(\.templateValue)),
      "add_generation_prompt": .bool(addGenerationPrompt),
      "bos_token": .string(bosToken),
      "eos_token": .string(eosToken),
      "tools": .none,
      "documents": .none,
    ]
    context.merge(variables) { _, given in given }
    return try render(context: context)
  }

  /// Renders with exactly these variables (plus the global functions); nothing is predefined.
  public func render(context: [String: JinjaValue]) throws -> String {
    try JinjaInterpreter.render(body, context: context)
  }
}
