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
      let merges = Self.mergesFromScores(tokens: vocab.tokens, scores: scores, types: types)
      let addSpace = vocab.addSpacePrefix ?? true
      self.init(
        vocabulary: vocab.tokens,
        alphabet: .scalars(byteFallback: true, unknownID: vocab.unknownID.map(Int32.init), fuseUnknown: true),
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

  /// SentencePiece BPE merges recovered from scores: every split of a normal token into two vocabulary pieces is a
  /// merge, ranked by the merged token's score (higher first), as transformers' SentencePiece extractor does.
  static func mergesFromScores(tokens: [String], scores: [Float], types: [Int]) -> [(String, String)] {
    var index: [String: Int] = [:]
    for (i, t) in tokens.enumerated() where types[i] == 1 { index[t] = i }
    var candidates: [(score: Float, left: Int, right: Int, merged: Int, a: String, b: String)] = []
    for (merged, token) in tokens.enumerated() where types[merged] == 1 {
      let chars = Array(token)
      guard chars.count > 1 else { continue }
      for cut in 1..<chars.count {
        let a = String(chars[..<cut]), b = String(chars[cut...])
        if let l = index[a], let r = index[b] {
          candidates.append((scores[merged], l, r, merged, a, b))
        }
      }
    }
    candidates.sort { x, y in
      x.score != y.score ? x.score > y.score : (x.left, x.right) < (y.left, y.right)
    }
    return candidates.map { ($0.a, $0.b) }
  }
}
