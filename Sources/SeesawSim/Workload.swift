/// Request lengths of a simulated run: (prompt tokens, output tokens) per request.
public enum Workload {
  /// `fixed:IN:OUT`, `arxiv` (synthetic, see `arxiv(count:seed:)`), or a file with one `IN OUT` pair per line.
  public static func lengths(_ spec: String, count: Int, seed: UInt64 = 0) throws -> [(input: Int, output: Int)] {
    if spec.hasPrefix("fixed:") {
      let parts = spec.dropFirst(6).split(separator: ":").compactMap { Int($0) }
      guard parts.count == 2, parts[0] > 0, parts[1] > 0 else {
        throw SimulationError.unknown(what: "workload", name: spec, known: "fixed:IN:OUT, arxiv, or a lengths file")
      }
      return Array(repeating: (parts[0], parts[1]), count: count)
    }
    if spec == "arxiv" { return arxiv(count: count, seed: seed) }
    guard let text = try? String(contentsOfFile: spec, encoding: .utf8) else {
      throw SimulationError.unknown(what: "workload", name: spec, known: "fixed:IN:OUT, arxiv, or a lengths file")
    }
    let pairs = text.split(separator: "\n").compactMap { line -> (Int, Int)? in
      let f = line.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).compactMap { Int($0) }
      return f.count == 2 ? (f[0], f[1]) : nil
    }
    guard !pairs.isEmpty else {
      throw SimulationError.unknown(what: "workload", name: spec, known: "a file of 'IN OUT' lines")
    }
    return (0..<count).map { pairs[$0 % pairs.count] }
  }

  /// arXiv-summarization-like lengths synthesised from the dataset's published means (about 5,900 words per
  /// article and 175 per abstract, about 1.33 tokens per word), spread uniformly over 0.5-1.5x the mean, with
  /// prompt + output capped at 4,096 tokens as in the paper.
  public static func arxiv(count: Int, seed: UInt64) -> [(input: Int, output: Int)] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    func uniform() -> Double {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Double(state >> 11) / Double(1 << 53)
    }
    return (0..<count).map { _ in
      let output = Int(175 * 1.33 * (0.5 + uniform()))
      let input = min(4096 - output, Int(5900 * 1.33 * (0.5 + uniform())))
      return (input, output)
    }
  }
}
