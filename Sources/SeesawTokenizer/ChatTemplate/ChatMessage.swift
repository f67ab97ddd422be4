import Foundation

/// One turn of a conversation, as chat templates read it: `message['role']` and `message['content']`.
public struct ChatMessage: Sendable, Equatable, Codable {
  /// `system`, `user`, `assistant` or `tool`; templates decide which they accept.
  public var role: String
  public var content: String

  public init(role: String, content: String) {
    self.role = role
    self.content = content
  }

  /// The message as the template sees it: an object with `role` then `content`.
  public var templateValue: JinjaValue { .object(["role": .string(role), "content": .string(content)]) }
}
