import SeesawEngine

/// The figures `bench throughput` and `simulate` share, with the same names in their JSON and text, so that a
/// simulated run compares with a measured one key by key.
struct ThroughputReport {
  var numRequests: Int
  var promptTokens: Int
  var outputTokens: Int
  var elapsed: Double
  var metrics: EngineMetrics

  init(outputs: [RequestOutput], elapsed: Double, metrics: EngineMetrics) {
    numRequests = outputs.count
    promptTokens = outputs.reduce(0) { $0 + $1.promptTokenIDs.count }
    outputTokens = outputs.reduce(0) { $0 + $1.outputs.reduce(0) { $0 + $1.tokenIDs.count } }
    self.elapsed = elapsed
    self.metrics = metrics
  }

  var numPrefillSteps: Int { metrics.numSteps - metrics.numDecodeSteps }
  var prefillTokensPerSecond: Double {
    metrics.prefillStepSeconds > 0 ? Double(metrics.numPromptTokens) / metrics.prefillStepSeconds : 0
  }
  var decodeTokensPerSecond: Double {
    metrics.decodeStepSeconds > 0 ? Double(metrics.numDecodeTokens) / metrics.decodeStepSeconds : 0
  }

  var json: [String: Any] {
    let m = metrics
    let total = promptTokens + outputTokens
    return [
      "elapsed_time": elapsed,
      "num_requests": numRequests,
      "total_num_tokens": total,
      "requests_per_second": Double(numRequests) / elapsed,
      "tokens_per_second": Double(total) / elapsed,
      "output_tokens_per_second": Double(outputTokens) / elapsed,
      "num_prompt_tokens": promptTokens,
      "num_output_tokens": outputTokens,
      "num_steps": m.numSteps,
      "prefill_time": m.prefillStepSeconds,
      "decode_time": m.decodeStepSeconds,
      "num_prefill_steps": numPrefillSteps,
      "prefill_step_ms": numPrefillSteps > 0 ? 1e3 * m.prefillStepSeconds / Double(numPrefillSteps) : 0.0,
      "num_decode_steps": m.numDecodeSteps,
      "decode_step_ms": m.numDecodeSteps > 0 ? 1e3 * m.decodeStepSeconds / Double(m.numDecodeSteps) : 0.0,
      "prefill_tokens_per_second": prefillTokensPerSecond,
      "decode_tokens_per_second": decodeTokensPerSecond,
      "num_transitions": m.numTransitions,
    ]
  }

  /// Throughput, counts and the prefill/decode split, three lines.
  var text: String {
    let m = metrics
    let total = promptTokens + outputTokens
    return String(
      format: """
        Throughput: %.2f requests/s, %.1f total tokens/s, %.1f output tokens/s
        Requests %d, prompt tokens %d, output tokens %d, elapsed %.1f s, %d steps
        Prefill: %.1f tokens/s (%.1f s in steps with prompt work); decode: %.1f tokens/s (%.1f s in decode-only steps)
        """, Double(numRequests) / elapsed, Double(total) / elapsed, Double(outputTokens) / elapsed, numRequests,
      promptTokens, outputTokens, elapsed, m.numSteps, prefillTokensPerSecond, m.prefillStepSeconds,
      decodeTokensPerSecond, m.decodeStepSeconds)
  }
}
