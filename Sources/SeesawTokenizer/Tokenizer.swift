import Foundation

/// A BPE tokenizer that encodes and decodes exactly as Hugging Face `tokenizers` does for byte-level BPE
/// (GPT-2, Llama 3, SmolLM2, Qwen2) and SentencePiece-style BPE (Llama 2, Mistral).
///
///     text -> added tokens split out -> normalizer -> pre-tokenizer pieces -> BPE per piece -> + BOS/EOS
///
/// Built from a Hugging Face `tokenizer.json` (+ `tokenizer_config.json`) or from a GGUF vocabulary.
public final class Tokenizer: @unchecked Sendable {
  /// How a piece becomes initial BPE symbols.
  enum Alphabet: Sendable {
    /// One symbol per UTF-8 byte (GPT-2's byte-to-unicode map).
    case bytes
    /// One symbol per Unicode scalar; unknown scalars become "<0xAB>" byte tokens or the unknown token.
    case scalars(byteFallback: Bool, unknownID: Int32?, fuseUnknown: Bool)
  }

  /// Token string of every id.
  public let vocabulary: [String]
  let tokenToID: [String: Int32]
  let alphabet: Alphabet
  let model: BPEModel
  let normalizer: Normalizer?
  let preTokenizer: PreTokenizer?
  let decoder: TokenDecoder?
  let addedTokens: [AddedToken]
  let matcher: AddedTokenMatcher
  /// Ids added around an encoding when special tokens are requested (BOS, EOS).
  let prefixIDs: [Int32]
  let suffixIDs: [Int32]
  /// byteSymbols[b]: id of the single-byte token for byte b (byte-level), or of "<0xAB>" (byte fallback).
  let byteSymbols: [Int32]
  /// Single-scalar tokens for the scalar alphabet.
  let scalarSymbols: [UInt32: Int32]
  let specialIDs: Set<Int32>

  public let bosToken: String?
  public let eosToken: String?
  public let bosTokenID: Int32?
  public let eosTokenID: Int32?
  /// The Jinja chat template, if the tokenizer carries one.
  public let chatTemplate: String?

  init(
    vocabulary: [String], alphabet: Alphabet, merges: [(String, String)], ignoreMerges: Bool,
    normalizer: Normalizer?, preTokenizer: PreTokenizer?, decoder: TokenDecoder?, addedTokens: [AddedToken],
    prefixIDs: [Int32], suffixIDs: [Int32], bosToken: String?, eosToken: String?,
    chatTemplate: String?
  ) {
    self.vocabulary = vocabulary
    var tokenToID: [String: Int32] = [:]
    tokenToID.reserveCapacity(vocabulary.count)
    for (id, token) in vocabulary.enumerated() where tokenToID[token] == nil { tokenToID[token] = Int32(id) }
    self.tokenToID = tokenToID
    self.alphabet = alphabet
    var mergeTable: [UInt64: BPEModel.Merge] = [:]
    mergeTable.reserveCapacity(merges.count)
    for (rank, (a, b)) in merges.enumerated() {
      guard let left = tokenToID[a], let right = tokenToID[b], let merged = tokenToID[a + b] else { continue }
      let key = BPEModel.pairKey(left, right)
      if mergeTable[key] == nil { mergeTable[key] = .init(rank: Int32(rank), id: merged) }
    }
    model = BPEModel(merges: mergeTable, ignoreMerges: ignoreMerges)
    self.normalizer = normalizer
    self.preTokenizer = preTokenizer
    self.decoder = decoder
    self.addedTokens = addedTokens
    matcher = AddedTokenMatcher(addedTokens)
    self.prefixIDs = prefixIDs
    self.suffixIDs = suffixIDs
    switch alphabet {
    case .bytes:
      byteSymbols = (0..<256).map { b in tokenToID[String(ByteLevel.byteToScalar[b])] ?? -1 }
    case .scalars:
      byteSymbols = (0..<256).map { b in tokenToID[String(format: "<0x%02X>", b)] ?? -1 }
    }
    var scalarSymbols: [UInt32: Int32] = [:]
    if case .scalars = alphabet {
      for (token, id) in tokenToID {
        let scalars = token.unicodeScalars
        if scalars.count == 1 { scalarSymbols[scalars.first!.value] = id }
      }
    }
    self.scalarSymbols = scalarSymbols
    specialIDs = Set(addedTokens.filter(\.special).map(\.id))
    self.bosToken = bosToken
    self.eosToken = eosToken
    bosTokenID = bosToken.flatMap { tokenToID[$0] }
    eosTokenID = eosToken.flatMap { tokenToID[$0] }
    self.chatTemplate = chatTemplate
  }

  /// Number of ids, added tokens included.
  public var vocabularySize: Int { vocabulary.count }

  /// The id of a token string.
  public func id(of token: String) -> Int32? { tokenToID[token] }

  /// Whether `id` is a special token (dropped by `decode(skipSpecialTokens: true)`).
  public func isSpecial(_ id: Int32) -> Bool { specialIDs.contains(id) }

  /// Token ids of `text`; with `addSpecialTokens`, the BOS/EOS the tokenizer's post-processor adds.
  public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int32] {
    var ids: [Int32] = addSpecialTokens ? prefixIDs : []
    let scalars = Array(text.unicodeScalars)
    for segment in matcher.split(scalars) {
      switch segment {
      case .token(let id): ids.append(id)
      case .text(let range): encodeSegment(scalars[range], isFirst: range.lowerBound == 0, into: &ids)
      }
    }
    if addSpecialTokens { ids.append(contentsOf: suffixIDs) }
    return ids
  }

  /// Normalizes, splits and merges one stretch of text between added tokens.
  func encodeSegment(_ slice: ArraySlice<Unicode.Scalar>, isFirst: Bool, into ids: inout [Int32]) {
    var text: [Unicode.Scalar]
    if let normalizer {
      text = Array(normalizer.apply(String(String.UnicodeScalarView(slice))).unicodeScalars)
    } else {
      text = Array(slice)
    }
    if text.isEmpty { return }
    var pieces = [0..<text.count]
    preTokenizer?.run(&text, pieces: &pieces, isFirstSegment: isFirst)
    var symbols: [Int32] = []
    text.withUnsafeBufferPointer { buffer in
      for piece in pieces where !piece.isEmpty {
        encodeWord(buffer, piece, symbols: &symbols, into: &ids)
      }
    }
  }

  /// BPE of one pre-tokenized piece.
  @inline(__always) func encodeWord(
    _ text: UnsafeBufferPointer<Unicode.Scalar>, _ piece: Range<Int>, symbols: inout [Int32], into ids: inout [Int32]
  ) {
    symbols.removeAll(keepingCapacity: true)
    switch alphabet {
    case .bytes:
      var spelled = String.UnicodeScalarView()
      for i in piece {
        for b in UTF8.encode(text[i])! {
          symbols.append(byteSymbols[Int(b)])
          if model.ignoreMerges { spelled.append(ByteLevel.byteToScalar[Int(b)]) }
        }
      }
      if model.ignoreMerges, let id = tokenToID[String(spelled)] {
        ids.append(id)
        return
      }
      symbols.removeAll { $0 < 0 }  // bytes missing from a vocabulary are dropped, as HF does without unk
    case .scalars(let byteFallback, let unknownID, let fuseUnknown):
      for i in piece {
        if let id = scalarSymbols[text[i].value] {
          symbols.append(id)
        } else if byteFallback, UTF8.encode(text[i])!.allSatisfy({ byteSymbols[Int($0)] >= 0 }) {
          for b in UTF8.encode(text[i])! { symbols.append(byteSymbols[Int(b)]) }
        } else if let unknownID {
          if !(fuseUnknown && symbols.last == unknownID) { symbols.append(unknownID) }
        }
      }
    }
    model.merge(&symbols, into: &ids)
  }

  /// Text of `ids`, as transformers' `decode` gives it.
  public func decode(_ ids: [Int32], skipSpecialTokens: Bool = false) -> String {
    var tokens: [String] = []
    tokens.reserveCapacity(ids.count)
    for id in ids where id >= 0 && Int(id) < vocabulary.count {
      if skipSpecialTokens && specialIDs.contains(id) { continue }
      tokens.append(vocabulary[Int(id)])
    }
    // transformers 5 does not apply `clean_up_tokenization_spaces` to tokenizers-backed BPE, so neither do we.
    return (decoder?.decode(tokens) ?? tokens).joined()
  }
}
