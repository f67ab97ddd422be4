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

  func run() throws {
    do {
      let config = try ModelShapes.config(model)
      let cluster = try HardwareCatalog.cluster(hardware)
      let phasePlan = try PhasePlan(parsing: plan)
      let engine = try LLMEngine.simulated(
        model: config, cluster: cluster, plan: phasePlan, config: try engineOptions.config())
      let lengths = try workloadOptions.lengths()
      let outputs = try engine.generate(lengths: lengths)
      let m = engine.metrics
      let elapsed = engine.simulatedSeconds
      let promptTokens = lengths.reduce(0) { $0 + $1.input }
      let outputTokens = outputs.reduce(0) { $0 + $1.outputs[0].tokenIDs.count }
      print(
        String(
          format: """
            Simulated %@ on %@, %@ (%d requests, workload %@)
            Throughput: %.2f requests/s, %.1f total tokens/s, %.1f output tokens/s (%.1f s, %d steps)
            Prefill: %.1f tokens/s (%.1f s in steps with prompt work); decode: %.1f tokens/s (%.1f s in decode-only steps)
            """, config.numLayers.description + "-layer model " + model, cluster.description, phasePlan.description,
          outputs.count, workloadOptions.workload, Double(outputs.count) / elapsed, Double(promptTokens + outputTokens) / elapsed,
          Double(outputTokens) / elapsed, elapsed, m.numSteps,
          m.prefillStepSeconds > 0 ? Double(m.numPromptTokens) / m.prefillStepSeconds : 0, m.prefillStepSeconds,
          m.decodeStepSeconds > 0 ? Double(m.numDecodeTokens) / m.decodeStepSeconds : 0, m.decodeStepSeconds))
      if let seesaw = engine.schedulerStats.seesaw {
        print(
          String(
            format: "Seesaw: %d transitions, prefill phase %.1f s, decode phase %.1f s, %d evictions, %d host blocks",
            m.numTransitions, m.prefillPhaseSeconds, m.decodePhaseSeconds, seesaw.numEvictions, seesaw.numHostBlocks))
      }
    } catch let error as ValidationError {
      throw error
    } catch {
      fail(error)
    }
  }
}
