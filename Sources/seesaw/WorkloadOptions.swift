import ArgumentParser
import SeesawModel
import SeesawSim

/// `--workload`, `--num-prompts` and `--dataset-path` of the simulated commands.
struct WorkloadOptions: ParsableArguments {
  @Option(help: "fixed:IN:OUT, arxiv (synthetic lengths), sharegpt (ShareGPT pairs, vLLM's filters), or a file of 'IN OUT' lines.")
  var workload = "arxiv"

  @Option(name: .customLong("num-prompts")) var numPrompts = 200

  @Option(name: .customLong("dataset-path"), help: "ShareGPT pairs for --workload sharegpt.")
  var datasetPath = ".cache/data/sharegpt-pairs.jsonl"

  /// Request lengths. ShareGPT's come from tokenizing its texts with the default model's tokenizer (another
  /// tokenizer's lengths differ by a few percent).
  func lengths() throws -> [(input: Int, output: Int)] {
    guard workload == "sharegpt" else { return try Workload.lengths(workload, count: numPrompts) }
    let files = try ModelFiles(path: try ModelOptions.parse([]).resolvedPath())
    let tokenizer = try TokenizerOptions.parse([]).load(model: files, modelPath: files.path)
    return try ShareGPTPairs.read(path: datasetPath, tokenizer: tokenizer, count: numPrompts)
      .map { ($0.prompt.count, $0.outputTokens) }
  }
}
