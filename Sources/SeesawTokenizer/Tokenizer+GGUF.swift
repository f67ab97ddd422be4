extension Tokenizer {
  /// Builds the tokenizer a GGUF file embeds, the way Hugging Face transformers converts it
  /// (`GGUFGPTConverter` / `GGUFLlamaConverter`), so that encodings equal transformers' for the same file.
  public convenience init(gguf vocab: GGUFVocabulary, path: String) throws {
    let types = vocab.tokenTypes ?? Array(repeating: 1, count: vocab.tokens.count)
    // Control (3) and user-defined (4) tokens are matched in raw text; control ones are special.
    let added = types.enumerated().compactMap { id, type -> AddedToken? in
      guard type == 3 || type == 4 else { return nil }
      return AddedToken(id: Int32(id), content: vocab.tokens[id], special: type == 3)
    }
    let bos = vocab.bosID.map { vocab.tokens[$0] }
    let eos = vocab.eosID.map { vocab.tokens[$0] }
    switch vocab.model {
    case "gpt2":
      guard let merges = vocab.merges else {
        throw TokenizerError.invalidFile(path: path, field: "tokenizer.ggml.merges", reason: "missing for a gpt2 model")
      }
      let pairs = try merges.enumerated().map { i, m -> (String, String) in
        guard let space = m.firstIndex(of: " ") else {
          throw TokenizerError.invalidFile(path: path, field: "tokenizer.ggml.merges[\(i)]", reason: "'\(m)' is not 'a b'")
        }
        return (String(m[..<space]), String(m[m.index(after: space)...]))
      }
      self.init(
        vocabulary: vocab.tokens, alphabet: .bytes, merges: pairs, ignoreMerges: false, normalizer: nil,
        preTokenizer: .byteLevel(addPrefixSpace: false, useRegex: true), decoder: .byteLevel, addedTokens: added,
        prefixIDs: [], suffixIDs: [], bosToken: bos, eosToken: eos,
        chatTemplate: vocab.chatTemplate)
    case "llama":
      guard let scores = vocab.scores else {
        throw TokenizerError.invalidFile(path: path, field: "tokenizer.ggml.scores", reason: "missing for a llama model")
      }
      let merges = Self.mergesFromScores(tokens: vocab.tokens, scores: scores)
      let addSpace = vocab.addSpacePrefix ?? true
      self.init(
        vocabulary: vocab.tokens,
        // transformers leaves the unknown token unset here; byte fallback covers every character.
        alphabet: .scalars(byteFallback: true, unknownID: nil, fuseUnknown: true),
        merges: merges, ignoreMerges: false, normalizer: nil,
        preTokenizer: .metaspace(replacement: "▁", prependScheme: addSpace ? .first : .never, split: false),
        decoder: .sequence([.replace(pattern: "▁", content: " "), .byteFallback, .fuse, .strip(content: " ", start: addSpace ? 1 : 0, stop: 0)]),
        addedTokens: added,
        prefixIDs: (vocab.addBOS ?? true) ? vocab.bosID.map { [Int32($0)] } ?? [] : [],
        suffixIDs: (vocab.addEOS ?? false) ? vocab.eosID.map { [Int32($0)] } ?? [] : [],
        bosToken: bos, eosToken: eos, chatTemplate: vocab.chatTemplate)
    default:
      throw TokenizerError.unsupported(path: path, field: "tokenizer.ggml.model", value: vocab.model)
    }
  }

  /// SentencePiece BPE merges recovered from scores, as transformers' `generate_merges` does for a GGUF without
  /// merges: every split of a token into two vocabulary pieces is a merge, ordered by the merged token's score
  /// (highest first), then by the pieces' lengths (longest first), then by token order and piece ids.
  static func mergesFromScores(tokens: [String], scores: [Float]) -> [(String, String)] {
    var index: [String: Int] = [:]
    for (i, t) in tokens.enumerated() { index[t] = i }
    var candidates: [(score: Float, leftLength: Int, rightLength: Int, a: String, b: String)] = []
    for (merged, token) in tokens.enumerated() where index[token] == merged {
      let scalars = Array(token.unicodeScalars)
      guard scalars.count > 1 else { continue }
      var local: [(l: Int, r: Int, a: String, b: String, leftLength: Int)] = []
      for cut in 1..<scalars.count {
        let a = String(String.UnicodeScalarView(scalars[..<cut])), b = String(String.UnicodeScalarView(scalars[cut...]))
        if let l = index[a], let r = index[b] { local.append((l, r, a, b, cut)) }
      }
      local.sort { ($0.l, $0.r) < ($1.l, $1.r) }
      for m in local {
        candidates.append((scores[merged], m.leftLength, scalars.count - m.leftLength, m.a, m.b))
      }
    }
    // A stable sort, descending on (score, left length, right length), like Python's sorted(reverse=True).
    let order = candidates.indices.sorted { x, y in
      let (p, q) = (candidates[x], candidates[y])
      if p.score != q.score { return p.score > q.score }
      if p.leftLength != q.leftLength { return p.leftLength > q.leftLength }
      if p.rightLength != q.rightLength { return p.rightLength > q.rightLength }
      return x < y
    }
    return order.map { (candidates[$0].a, candidates[$0].b) }
  }
}
