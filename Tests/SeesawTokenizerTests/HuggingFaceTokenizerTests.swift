import Foundation
import Testing

@testable import SeesawTokenizer

/// Encodings and decodings of the three tokenizer families against Hugging Face's, for the hard cases and the
/// ShareGPT corpus (tools/make_tokenizer_goldens.py; tokenizer files and corpus fetched by set-up).
@Suite("Tokenizers match Hugging Face", .serialized)
struct HuggingFaceTokenizerTests {
  /// tokenizer.json families: SmolLM2 as converted from its GGUF (GPT-2 split) and as on the Hub (digits split
  /// first), Mistral v1 (SentencePiece BPE), Llama 3, and Llama 3's vocabulary with Qwen2's split pattern.
  static let families = ["smollm2", "smollm2-hub", "mistral-v1", "llama3", "qwen2-style"]

  static func tokenizer(_ family: String) throws -> Tokenizer {
    if family == "mistral-v1-gguf" { return try TokenizerFixtures.mistralFromGGUF() }
    return try Tokenizer(directory: TokenizerFixtures.cache("tokenizers/\(family)"))
  }

  static func hardCases(_ family: String) throws -> [[String: Any]] {
    try TokenizerFixtures.json(TokenizerFixtures.fixture("tokenizer/\(family)-hard.json")) as! [[String: Any]]
  }

  static func corpus() throws -> [String] {
    let data = try Data(contentsOf: URL(fileURLWithPath: TokenizerFixtures.cache("data/sharegpt-corpus.jsonl")))
    return data.split(separator: UInt8(ascii: "\n")).map { line in
      (try! JSONSerialization.jsonObject(with: Data(line)) as! [String: Any])["text"] as! String
    }
  }

  static func roundTripFailures(_ family: String, _ set: String) throws -> Set<Int> {
    let manifest = try TokenizerFixtures.json(TokenizerFixtures.fixture("tokenizer/manifest.json")) as! [String: Any]
    let families = manifest["families"] as! [String: [String: Any]]
    let failures = families[family]!["roundtrip_failures"] as! [String: [Int]]
    return Set(failures[set] ?? [])
  }

  static func ids(_ value: Any?) -> [Int32] { (value as! [NSNumber]).map(\.int32Value) }

  @Test("hard cases encode and decode as Hugging Face does", arguments: families)
  func hardCases(family: String) throws {
    let tokenizer = try Self.tokenizer(family)
    try Self.checkHardCases(tokenizer, family: family)
  }

  static func checkHardCases(_ tokenizer: Tokenizer, family: String) throws {
    let failures = try roundTripFailures(family, "hard")
    for (i, entry) in try hardCases(family).enumerated() {
      let text = entry["text"] as! String
      let noSpecial = ids(entry["ids_no_special"])
      #expect(tokenizer.encode(text) == ids(entry["ids"]), "\(family) #\(i) \(text.debugDescription)")
      #expect(tokenizer.encode(text, addSpecialTokens: false) == noSpecial, "\(family) #\(i) \(text.debugDescription)")
      #expect(tokenizer.decode(noSpecial) == entry["decoded"] as! String, "\(family) #\(i) decode")
      #expect(
        tokenizer.decode(ids(entry["ids"]), skipSpecialTokens: true) == entry["decoded_skip_special"] as! String,
        "\(family) #\(i) decode skipping specials")
      if !failures.contains(i) { #expect(tokenizer.decode(noSpecial) == text, "\(family) #\(i) round trip") }
    }
  }

  @Test("a SentencePiece vocabulary read from a GGUF (merges from scores) encodes as transformers does")
  func sentencePieceFromGGUF() throws {
    try Self.checkHardCases(try Self.tokenizer("mistral-v1-gguf"), family: "mistral-v1-gguf")
    try checkCorpus(family: "mistral-v1-gguf")
  }

  @Test("every ShareGPT corpus entry encodes to Hugging Face's ids and round-trips where HF does", arguments: families)
  func corpus(family: String) throws {
    try checkCorpus(family: family)
  }

  func checkCorpus(family: String) throws {
    let tokenizer = try Self.tokenizer(family)
    let texts = try Self.corpus()
    let lines = try String(contentsOf: TokenizerFixtures.fixture("tokenizer/\(family)-sharegpt.txt"), encoding: .utf8)
      .split(separator: "\n", omittingEmptySubsequences: false)
    #expect(texts.count == 2000 && lines.count >= texts.count)
    let failures = try Self.roundTripFailures(family, "sharegpt")
    var mismatches = 0
    for (i, text) in texts.enumerated() {
      let expected = lines[i].split(separator: " ").map { Int32($0)! }
      let got = tokenizer.encode(text, addSpecialTokens: false)
      if got != expected {
        mismatches += 1
        if mismatches <= 3 { Issue.record("\(family) corpus #\(i): \(got.prefix(20)) vs \(expected.prefix(20))") }
      }
      if !failures.contains(i) && tokenizer.decode(got) != text {
        Issue.record("\(family) corpus #\(i) does not round-trip")
      }
    }
    #expect(mismatches == 0, "\(family): \(mismatches) of \(texts.count) corpus entries differ")
  }

  @Test("the SmolLM2 tokenizer read from the GGUF equals the tokenizer.json one on every hard case")
  func ggufEqualsJSON() throws {
    try Self.checkHardCases(try TokenizerFixtures.smolLM2FromGGUF(), family: "smollm2")
  }

  @Test("streaming detokenization yields the full decode and never a broken character", arguments: families)
  func streaming(family: String) throws {
    let tokenizer = try Self.tokenizer(family)
    var texts = try Self.hardCases(family).map { $0["text"] as! String }
    texts += try Self.corpus().prefix(200)
    for text in texts {
      let ids = tokenizer.encode(text)
      for skip in [false, true] {
        var stream = IncrementalDetokenizer(tokenizer: tokenizer, skipSpecialTokens: skip)
        var pieces: [String] = []
        for id in ids { pieces.append(stream.append(id)) }
        pieces.append(stream.finish())
        #expect(pieces.joined() == tokenizer.decode(ids, skipSpecialTokens: skip), "\(family) \(text.prefix(30).debugDescription)")
        #expect(!pieces.dropLast().contains { $0.unicodeScalars.last == "\u{FFFD}" })
      }
    }
  }
}
