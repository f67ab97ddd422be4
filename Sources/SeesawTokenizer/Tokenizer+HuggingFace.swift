import Foundation

extension Tokenizer {
  /// Loads `tokenizer.json` and, if present, `tokenizer_config.json` and `chat_template.jinja` from a Hugging Face
  /// model directory.
  public convenience init(directory: String) throws {
    let tokenizerPath = (directory as NSString).appendingPathComponent("tokenizer.json")
    let configPath = (directory as NSString).appendingPathComponent("tokenizer_config.json")
    let templatePath = (directory as NSString).appendingPathComponent("chat_template.jinja")
    let config = FileManager.default.fileExists(atPath: configPath) ? try Self.readJSON(configPath) : [:]
    let template = FileManager.default.contents(atPath: templatePath).map { String(decoding: $0, as: UTF8.self) }
    try self.init(
      tokenizerJSON: try Self.readJSON(tokenizerPath), path: tokenizerPath, config: config,
      configPath: configPath, chatTemplate: template)
  }

  /// Loads a tokenizer from the bytes of a `tokenizer.json` (and optionally of a `tokenizer_config.json`); `path`
  /// names the bytes in errors.
  public convenience init(tokenizerJSON: Data, config: Data? = nil, path: String = "tokenizer.json") throws {
    let configPath = "tokenizer_config.json"
    try self.init(
      tokenizerJSON: try Self.parseJSON(tokenizerJSON, path: path), path: path,
      config: try config.map { try Self.parseJSON($0, path: configPath) } ?? [:], configPath: configPath,
      chatTemplate: nil)
  }

  static func readJSON(_ path: String) throws -> [String: Any] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TokenizerError.cannotOpen(path: path, reason: "no such file or not readable")
    }
    return try parseJSON(data, path: path)
  }

  static func parseJSON(_ data: Data, path: String) throws -> [String: Any] {
    let data = escapingByteOrderMarks(data)
    guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
      throw TokenizerError.invalidFile(path: path, field: "(root)", reason: "not a JSON object")
    }
    return object
  }

  /// Builds a tokenizer from parsed tokenizer.json and tokenizer_config.json objects.
  convenience init(
    tokenizerJSON json: [String: Any], path: String, config: [String: Any], configPath: String, chatTemplate: String?
  ) throws {
    guard let model = json["model"] as? [String: Any] else {
      throw TokenizerError.invalidFile(path: path, field: "model", reason: "missing or not an object")
    }
    let modelType = model["type"] as? String ?? "BPE"
    guard modelType == "BPE" else {
      throw TokenizerError.unsupported(path: path, field: "model.type", value: modelType)
    }
    guard let vocab = model["vocab"] as? [String: Any] else {
      throw TokenizerError.invalidFile(path: path, field: "model.vocab", reason: "missing or not an object")
    }
    var added: [AddedToken] = []
    for (i, entry) in (json["added_tokens"] as? [[String: Any]] ?? []).enumerated() {
      guard let number = entry["id"] as? NSNumber, let content = entry["content"] as? String else {
        throw TokenizerError.invalidFile(path: path, field: "added_tokens[\(i)]", reason: "needs id and content")
      }
      // A negative id indexed the vocabulary out of bounds (found by fuzzing); int32Value wrapped huge ones.
      guard number.intValue >= 0, number.intValue <= Int(Int32.max) else {
        throw TokenizerError.invalidFile(
          path: path, field: "added_tokens[\(i)].id", reason: "\(number) is not a non-negative 32-bit integer")
      }
      added.append(
        AddedToken(
          id: Int32(number.intValue), content: content, special: entry["special"] as? Bool ?? false,
          lstrip: entry["lstrip"] as? Bool ?? false, rstrip: entry["rstrip"] as? Bool ?? false))
    }
    // Vocabulary by id; added tokens may extend it.
    var pairs: [(String, Int)] = []
    pairs.reserveCapacity(vocab.count)
    for (token, value) in vocab {
      guard let id = (value as? NSNumber)?.intValue, id >= 0 else {
        throw TokenizerError.invalidFile(
          path: path, field: "model.vocab[\(token)]", reason: "id is not a non-negative integer")
      }
      pairs.append((token, id))
    }
    let size = max(pairs.map(\.1).max() ?? -1, added.map { Int($0.id) }.max() ?? -1) + 1
    guard size <= 10_000_000 else {
      throw TokenizerError.invalidFile(path: path, field: "model.vocab", reason: "ids up to \(size) are implausible")
    }
    var vocabulary = [String](repeating: "", count: size)
    for (token, id) in pairs { vocabulary[id] = token }
    for token in added { vocabulary[Int(token.id)] = token.content }

    var merges: [(String, String)] = []
    for (i, entry) in (model["merges"] as? [Any] ?? []).enumerated() {
      if let s = entry as? String, let space = s.firstIndex(of: " ") {
        merges.append((String(s[..<space]), String(s[s.index(after: space)...])))
      } else if let pair = entry as? [String], pair.count == 2 {
        merges.append((pair[0], pair[1]))
      } else {
        throw TokenizerError.invalidFile(path: path, field: "model.merges[\(i)]", reason: "not \"a b\" or [a, b]")
      }
    }

    let normalizer = try (json["normalizer"] as? [String: Any]).map { try Normalizer(json: $0, path: path) }
    let preTokenizer = try (json["pre_tokenizer"] as? [String: Any]).map { try PreTokenizer(json: $0, path: path) }
    let decoder = try (json["decoder"] as? [String: Any]).map { try TokenDecoder(json: $0, path: path) }
    let byteLevel: Bool = {
      if case .byteLevel = decoder { return true }
      if case .sequence(let steps)? = preTokenizer {
        return steps.contains { if case .byteLevel = $0 { return true } else { return false } }
      }
      if case .byteLevel? = preTokenizer { return true }
      return false
    }()
    let unknownID = (model["unk_token"] as? String).flatMap { unk in vocab[unk] as? NSNumber }?.int32Value
    let alphabet: Alphabet =
      byteLevel
      ? .bytes
      : .scalars(
        byteFallback: model["byte_fallback"] as? Bool ?? false, unknownID: unknownID,
        fuseUnknown: model["fuse_unk"] as? Bool ?? false)

    // Special tokens around an encoding: the post-processor, overridden by tokenizer_config's add_bos/eos_token.
    var (prefix, suffix) = try Self.postProcessorIDs(json["post_processor"] as? [String: Any], path: path)
    let bosToken = Self.tokenString(config["bos_token"])
    let eosToken = Self.tokenString(config["eos_token"])
    func idOf(_ token: String?) -> Int32? {
      token.flatMap { t in (vocab[t] as? NSNumber)?.int32Value ?? added.first { $0.content == t }?.id }
    }
    if let addBOS = config["add_bos_token"] as? Bool {
      prefix = addBOS ? idOf(bosToken).map { [$0] } ?? prefix : []
    }
    if let addEOS = config["add_eos_token"] as? Bool {
      suffix = addEOS ? idOf(eosToken).map { [$0] } ?? suffix : []
    }
    var template = chatTemplate
    if template == nil {
      if let s = config["chat_template"] as? String {
        template = s
      } else if let list = config["chat_template"] as? [[String: Any]] {
        template = (list.first { $0["name"] as? String == "default" } ?? list.first)?["template"] as? String
      }
    }
    self.init(
      vocabulary: vocabulary, alphabet: alphabet, merges: merges,
      ignoreMerges: model["ignore_merges"] as? Bool ?? false,
      normalizer: normalizer, preTokenizer: preTokenizer, decoder: decoder, addedTokens: added, prefixIDs: prefix,
      suffixIDs: suffix, bosToken: bosToken,
      eosToken: eosToken, chatTemplate: template)
  }

  /// Foundation's JSON parser drops a raw U+FEFF inside strings (Mistral's vocabulary has a "\u{FEFF}" token), so
  /// raw byte-order marks are rewritten as the escape `\ufeff` first; one at the very start of the file is dropped.
  static func escapingByteOrderMarks(_ data: Data) -> Data {
    let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    var bytes = [UInt8](data)
    if bytes.starts(with: bom) { bytes.removeFirst(3) }
    guard bytes.firstRange(of: bom) != nil else { return Data(bytes) }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count + 64)
    var i = 0
    while i < bytes.count {
      if i + 2 < bytes.count && bytes[i] == 0xEF && bytes[i + 1] == 0xBB && bytes[i + 2] == 0xBF {
        out.append(contentsOf: Array(#"\ufeff"#.utf8))
        i += 3
      } else {
        out.append(bytes[i])
        i += 1
      }
    }
    return Data(out)
  }

  /// "<s>" or {"content": "<s>", ...} -> "<s>".
  static func tokenString(_ value: Any?) -> String? {
    if let s = value as? String { return s }
    return (value as? [String: Any])?["content"] as? String
  }

  /// Ids a post-processor puts before and after a single sequence.
  static func postProcessorIDs(_ json: [String: Any]?, path: String) throws -> ([Int32], [Int32]) {
    guard let json else { return ([], []) }
    let type = json["type"] as? String ?? "(missing)"
    switch type {
    case "ByteLevel":
      return ([], [])
    case "Sequence":
      var prefix: [Int32] = []
      var suffix: [Int32] = []
      for step in json["processors"] as? [[String: Any]] ?? [] {
        let (p, s) = try postProcessorIDs(step, path: path)
        prefix += p
        suffix = s + suffix
      }
      return (prefix, suffix)
    case "TemplateProcessing":
      let specials = json["special_tokens"] as? [String: [String: Any]] ?? [:]
      var prefix: [Int32] = []
      var suffix: [Int32] = []
      var seenSequence = false
      for item in json["single"] as? [[String: Any]] ?? [] {
        if item["Sequence"] != nil {
          seenSequence = true
        } else if let special = item["SpecialToken"] as? [String: Any], let name = special["id"] as? String {
          guard let ids = (specials[name]?["ids"] as? [NSNumber])?.map(\.int32Value) else {
            throw TokenizerError.invalidFile(
              path: path, field: "post_processor.special_tokens.\(name)", reason: "missing ids")
          }
          if seenSequence { suffix += ids } else { prefix += ids }
        }
      }
      return (prefix, suffix)
    case "RobertaProcessing", "BertProcessing":
      let cls = (json["cls"] as? [Any])?.last as? NSNumber
      let sep = (json["sep"] as? [Any])?.last as? NSNumber
      return (cls.map { [$0.int32Value] } ?? [], sep.map { [$0.int32Value] } ?? [])
    default:
      throw TokenizerError.unsupported(path: path, field: "post_processor", value: type)
    }
  }
}
