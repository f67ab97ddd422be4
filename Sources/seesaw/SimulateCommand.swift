import ArgumentParser
import Foundation
import SeesawEngine
import SeesawModel
import SeesawParallel
import SeesawSim

/// `seesaw simulate`: the engine's own scheduler on a modelled GPU cluster, timed by the cost model.
struct SimulateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "simulate",
    abstract:
      "Run the real scheduler on a modelled cluster (cost model, virtual clock) and report like bench throughput.")

  @Option(help: "A model shape name (llama2-70b, llama3-15b, codellama-34b, ...) or a model path.")
  var model = "llama3-15b"

  @Option(help: "Devices, e.g. 4xA10, 8xL4, 8xA100-80G-SXM.")
  var hardware = "4xA10"

  @OptionGroup var workloadOptions: WorkloadOptions

  @Option(help: "A layout (tp4) or a Seesaw plan (pp4:tp4).")
  var plan = "pp4:tp4"

  @OptionGroup var engineOptions: EngineOptions

  @Option(name: .customLong("output-json"), help: "Write the results as JSON here (bench throughput's keys).")
  var outputJSON: String?

  func run() throws {
    do {
      let config = try ModelShapes.config(model)
      let cluster = try HardwareCatalog.cluster(hardware)
      let phasePlan = try PhasePlan(parsing: plan)
      let engine = try LLMEngine.simulated(
        model: config, cluster: cluster, plan: phasePlan, config: try engineOptions.config(),
        kvBytesPerValue: try EngineOptions.simulatedKVBytesPerValue(engineOptions.kvCacheDType))
      let lengths = try workloadOptions.lengths()
      let outputs = try engine.generate(lengths: lengths)
      let report = ThroughputReport(outputs: outputs, elapsed: engine.simulatedSeconds, metrics: engine.metrics)
      print(
        "Simulated \(config.numLayers)-layer model \(model) on \(cluster), \(phasePlan) (\(outputs.count) requests, "
          + "workload \(workloadOptions.workload))")
      print(report.text)
      let m = engine.metrics
      if let seesaw = engine.schedulerStats.seesaw {
        print(
          String(
            format: "Seesaw: %d transitions, prefill phase %.1f s, decode phase %.1f s, %d evictions, %d host blocks",
            m.numTransitions, m.prefillPhaseSeconds, m.decodePhaseSeconds, seesaw.numEvictions, seesaw.numHostBlocks))
      }
      if let outputJSON {
        var json = report.json
        json["parallel"] = phasePlan.description
        json["hardware"] = cluster.description
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        guard FileManager.default.createFile(atPath: outputJSON, contents: data) else {
          throw ValidationError("--output-json \(outputJSON): cannot write")
        }
      }
    } catch let error as ValidationError {
      throw error
    } catch {
      fail(error)
    }
  }
}
