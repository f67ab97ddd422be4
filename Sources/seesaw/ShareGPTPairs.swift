import ArgumentParser
import Foundation
import SeesawTokenizer

/// ShareGPT (prompt, completion) pairs in vLLM's sampling order (`scripts/setup-tokenizers.sh` writes them), with
/// vLLM's filters: at least 4 tokens each, prompt ≤ 1024, prompt + output ≤ 2048.
enum ShareGPTPairs {
  /// The first `count` pairs that pass the filters: prompt ids and output length (`outputLen` overrides the
  /// completion's).
  static func read(path: String, tokenizer: Tokenizer, count: Int, outputLen: Int? = nil) throws
    -> [(prompt: [Int32], outputTokens: Int)]
  {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ValidationError("--dataset-path \(path): missing (run scripts/setup-tokenizers.sh)")
    }
    var out: [(prompt: [Int32], outputTokens: Int)] = []
    for (i, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where out.count < count {
      guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: String],
        let prompt = object["prompt"], let completion = object["completion"]
      else { throw ValidationError("\(path):\(i + 1): needs string 'prompt' and 'completion'") }
      let promptIDs = tokenizer.encode(prompt)
      let outputTokens = outputLen ?? tokenizer.encode(completion).count
      if promptIDs.count < 4 || outputTokens < 4 || promptIDs.count > 1024 || promptIDs.count + outputTokens > 2048 {
        continue
      }
      out.append((promptIDs, outputTokens))
    }
    return out
  }
}
