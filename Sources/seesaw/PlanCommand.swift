import ArgumentParser
import Foundation
import SeesawEngine
import SeesawSim

/// `seesaw plan`: every layout and Seesaw pair on a modelled cluster, ranked by simulated throughput.
struct PlanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plan", abstract: "Rank static layouts and Seesaw plans by simulated throughput on a modelled cluster."
  )

  @Option(help: "A model shape name or a model path.") var model = "llama3-15b"
  @Option(help: "Devices, e.g. 4xA10.") var hardware = "4xA10"
  @OptionGroup var workloadOptions: WorkloadOptions
  @Option(
    name: .customLong("kv-cache-dtype"),
    help: "How the KV cache stores K and V: auto (default: the device's value type), f32 or bf16.")
  var kvCacheDType = "auto"
  @Option(help: "Rows of the table to print.") var top = 15
  @Option(help: "Write an SVG bar chart of the ranking here.") var chart: String?
  @Option(name: .customLong("output-json"), help: "Write every candidate, best first, as JSON here.")
  var outputJSON: String?

  func run() throws {
    do {
      let config = try ModelShapes.config(model)
      let cluster = try HardwareCatalog.cluster(hardware)
      let ranked = Planner.rank(
        model: config, cluster: cluster, lengths: try workloadOptions.lengths(),
        kvBytesPerValue: try EngineOptions.simulatedKVBytesPerValue(kvCacheDType))
      guard let best = ranked.first else {
        throw SimulationError.doesNotFit(layout: "any", reason: "\(model) on \(cluster)")
      }
      let bestStatic = ranked.first { $0.plan.isStatic }
      print(
        "Plans for \(model) on \(cluster), workload \(workloadOptions.workload) (\(workloadOptions.numPrompts) requests), by simulated throughput:"
      )
      print("rank  plan                 budget   tokens/s   vs best static   transitions")
      for (i, c) in ranked.prefix(top).enumerated() {
        let ratio = bestStatic.map { c.tokensPerSecond / $0.tokensPerSecond } ?? 1
        print(
          String(
            format: "%4d  %@ %6d %10.1f %13.2fx %13d", i + 1,
            c.plan.description.padding(toLength: 20, withPad: " ", startingAt: 0),
            c.tokenBudget, c.tokensPerSecond, ratio, c.numTransitions))
      }
      print("best: \(best.plan) (budget \(best.tokenBudget))")
      if let outputJSON {
        let rows: [[String: Any]] = ranked.map {
          [
            "plan": $0.plan.description, "static": $0.plan.isStatic, "token_budget": $0.tokenBudget,
            "tokens_per_second": $0.tokensPerSecond, "elapsed_time": $0.seconds, "num_transitions": $0.numTransitions,
          ]
        }
        let data = try JSONSerialization.data(
          withJSONObject: ["model": model, "hardware": cluster.description, "candidates": rows],
          options: [.prettyPrinted, .sortedKeys])
        guard FileManager.default.createFile(atPath: outputJSON, contents: data) else {
          throw ValidationError("--output-json \(outputJSON): cannot write")
        }
      }
      if let chart { try Self.svg(Array(ranked.prefix(top))).write(toFile: chart, atomically: true, encoding: .utf8) }
    } catch let error as ValidationError {
      throw error
    } catch {
      fail(error)
    }
  }

  /// Horizontal bars of tokens/s, best on top; Seesaw plans in another colour.
  static func svg(_ candidates: [Planner.Candidate]) -> String {
    let maxValue = candidates.map(\.tokensPerSecond).max() ?? 1
    let rowHeight = 22
    let width = 720
    let labelWidth = 220
    var rows: [String] = []
    for (i, c) in candidates.enumerated() {
      let y = 30 + i * rowHeight
      let w = Int(Double(width - labelWidth - 80) * c.tokensPerSecond / maxValue)
      let colour = c.plan.isStatic ? "#8a9bb0" : "#d2691e"
      rows.append(
        """
        <text x="\(labelWidth - 8)" y="\(y + 15)" text-anchor="end" font-size="12">\(c.plan) (\(c.tokenBudget))</text>\
        <rect x="\(labelWidth)" y="\(y)" width="\(w)" height="\(rowHeight - 6)" fill="\(colour)"/>\
        <text x="\(labelWidth + w + 6)" y="\(y + 15)" font-size="12">\(Int(c.tokensPerSecond))</text>
        """)
    }
    let height = 40 + candidates.count * rowHeight
    return """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" font-family="sans-serif">
      <text x="10" y="18" font-size="13">Simulated tokens/s (orange: Seesaw plans; grey: static layouts, token budget in parentheses)</text>
      \(rows.joined(separator: "\n"))
      </svg>

      """
  }
}
