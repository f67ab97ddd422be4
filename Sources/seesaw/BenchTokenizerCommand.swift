import ArgumentParser
import Foundation
import SeesawTensor
import SeesawTokenizer

/// `seesaw bench tokenizer`: encoding throughput on the ShareGPT corpus, one thread, next to Hugging Face
/// `tokenizers` measured by tools/bench_hf_tokenizer.py.
struct BenchTokenizerCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tokenizer",
    abstract: "MB/s of encoding the ShareGPT corpus (one text at a time, one thread), optionally next to HF tokenizers.")

  @Option(help: "The corpus: JSON lines with a \"text\" field.")
  var corpus = ".cache/data/sharegpt-corpus.jsonl"

  @Option(help: "Tokenizers to measure: Hugging Face directories or .gguf files; repeatable.")
  var tokenizer: [String] = [".cache/tokenizers/smollm2", ".cache/tokenizers/mistral-v1", ".cache/tokenizers/llama3"]

  @Option(name: .customLong("repeat"), help: "Runs per figure; the best is reported.")
  var repeats = 3

  @Flag(name: .customLong("compare-hf"), help: "Also run tools/bench_hf_tokenizer.py (needs scripts/setup-tokenizers.sh).")
  var compareHF = false

  func run() throws {
    do {
      guard let data = FileManager.default.contents(atPath: corpus) else {
        throw TokenizerError.cannotOpen(path: corpus, reason: "no such file (run scripts/setup-tokenizers.sh)")
      }
      let texts = try data.split(separator: UInt8(ascii: "\n")).enumerated().map { i, line -> String in
        guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
          let text = object["text"] as? String
        else { throw TokenizerError.invalidFile(path: corpus, field: "line \(i + 1)", reason: "no \"text\" string") }
        return text
      }
      let numBytes = texts.reduce(0) { $0 + $1.utf8.count }
      print("corpus: \(texts.count) texts, \(numBytes) UTF-8 bytes; one thread, best of \(repeats)")
      print("tokenizer                                  tokens     load s   encode MB/s   Mtok/s")
      for path in tokenizer {
        let start = DispatchTime.now().uptimeNanoseconds
        let tok = try Tokenizer(path: path)
        let load = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var numTokens = 0
        let seconds = Roofline.time(repeats: repeats) {
          numTokens = 0
          for text in texts { numTokens += tok.encode(text, addSpecialTokens: false).count }
        }
        print(
          String(
            format: "%@ %9d %9.2f %12.2f %9.3f", path.padding(toLength: 40, withPad: " ", startingAt: 0), numTokens,
            load, Double(numBytes) / seconds / 1e6, Double(numTokens) / seconds / 1e6))
      }
      if compareHF { try runHFBenchmark() }
    } catch {
      fail(error)
    }
  }

  /// Runs the Hugging Face side of the comparison and passes its table through.
  func runHFBenchmark() throws {
    let python = ".cache/venv-tokenizers/bin/python"
    guard FileManager.default.isExecutableFile(atPath: python) else {
      throw TokenizerError.cannotOpen(path: python, reason: "missing; run scripts/setup-tokenizers.sh")
    }
    print("\nHugging Face tokenizers (tools/bench_hf_tokenizer.py):")
    fflush(stdout)  // our lines first, then the child's
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["tools/bench_hf_tokenizer.py", "--repeat", "\(repeats)"]
    try process.run()
    process.waitUntilExit()
  }
}
