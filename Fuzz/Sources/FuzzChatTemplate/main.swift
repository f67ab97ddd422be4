import FuzzSupport
import SeesawTokenizer

/// A Jinja chat template (`ChatTemplate`): the lexer and parser, then a render of a short conversation with a
/// system prompt, two turns and the generation prompt.
runFuzzer { data, size in
  fuzzInput(data, size) { bytes in
    let template = try ChatTemplate(source: String(decoding: bytes, as: UTF8.self))
    let messages = [
      ChatMessage(role: "system", content: "You are terse."),
      ChatMessage(role: "user", content: "Hi"),
      ChatMessage(role: "assistant", content: "Hello."),
      ChatMessage(role: "user", content: "2+2?"),
    ]
    blackHole(try template.render(messages: messages, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>"))
  }
}
