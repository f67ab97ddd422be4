/// Why a line of a batch file got no completion. It becomes the line's `error` object `{code, message}` (and an
/// OpenAI error body with status 400 where the line was a request at all).
public struct BatchError: Error, Equatable, CustomStringConvertible {
  public enum Code: String, Sendable {
    /// The line is not a JSON object.
    case invalidJSON = "invalid_json"
    /// `custom_id` is missing or not a string.
    case missingCustomID = "missing_custom_id"
    /// An earlier line has the same `custom_id`; only the first is run.
    case duplicateCustomID = "duplicate_custom_id"
    /// `url` is not /v1/completions or /v1/chat/completions.
    case invalidURL = "invalid_url"
    /// `method` is not POST.
    case invalidMethod = "invalid_method"
    /// `body` is missing or not an object.
    case missingBody = "missing_body"
    /// A field of the body has the wrong type or value (`param` names it).
    case invalidField = "invalid_field"
    /// The prompt, with max_tokens, does not fit the model's context.
    case contextLengthExceeded = "context_length_exceeded"
    /// The engine refused the request (e.g. longer than the KV cache, token id outside the vocabulary).
    case invalidRequest = "invalid_request"
  }

  public var code: Code
  public var message: String
  /// The body field at fault, if one is.
  public var param: String?
  /// The line's `custom_id`, when it could be read.
  public var customID: String?

  public init(_ code: Code, _ message: String, param: String? = nil, customID: String? = nil) {
    self.code = code
    self.message = message
    self.param = param
    self.customID = customID
  }

  init(_ error: FieldError, customID: String?) {
    self.init(.invalidField, error.description, param: error.field, customID: customID)
  }

  public var description: String { "\(code.rawValue): \(message)" }
}
