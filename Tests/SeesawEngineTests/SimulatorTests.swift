import Foundation
import SeesawModel
import SeesawParallel
import Testing

@testable import SeesawEngine
@testable import SeesawSim

/// The cost model on its own, and the engine's schedulers on modelled clusters.
@Suite("Simulator")
struct SimulatorTests {
  static let llama15b = ModelShapes.named["llama3-15b"]!

  @Test("clusters parse from 8xA10-style names, and unknown names list the known ones")
  func clusters() throws {
    let c = try HardwareCatalog.cluster("8xA10")
    #expect(c.count == 8 && c.device.memoryBandwidth == 600e9)
    #expect(try HardwareCatalog.cluster("H200").count == 1)
    #expect(throws: SimulationError.self) { try HardwareCatalog.cluster("4xT4") }
  }

  @Test("a batch-1 decode step costs the weights over the bandwidth; a long prefill costs its FLOPs over compute")
  func rooflines() throws {
    let cost = CostModel(model: Self.llama15b, cluster: try HardwareCatalog.cluster("1xA100-80G-SXM"))
    let layout = ParallelConfig()
    let decode = cost.stepSeconds([[SequenceWork(newTokens: 1, contextTokens: 100, samples: true)]], layout: layout)
    let weights = cost.weightBytesPerDevice(layout)
    let bandwidth = 2039e9 * cost.memoryEfficiency
    #expect(abs(decode / (weights / bandwidth) - 1) < 0.05, "\(decode) s vs \(weights / bandwidth) s")
    let prefill = cost.stepSeconds(
      [[SequenceWork(newTokens: 4096, contextTokens: 4096, samples: true)]], layout: layout)
    let flops = 2 * 4096 * cost.layerParams * Double(Self.llama15b.numLayers)
    let computeBound = flops / (312e12 * cost.computeEfficiency)
    #expect(prefill > computeBound && prefill < 1.3 * computeBound, "\(prefill) s vs \(computeBound) s")
  }

  @Test("a KV dtype other than the device's changes the K/V bytes, capacity and decode time, not the weights")
  func kvBytesPerValue() throws {
    let cluster = try HardwareCatalog.cluster("1xA100-80G-SXM")
    let device = CostModel(model: Self.llama15b, cluster: cluster)
    let f32 = CostModel(model: Self.llama15b, cluster: cluster, kvBytesPerValue: 4)
    let layout = ParallelConfig()
    #expect(device.kvBytesPerValue == 2 && device.bytesPerValue == 2)
    #expect(f32.kvBytesPerTokenPerDevice(layout) == 2 * device.kvBytesPerTokenPerDevice(layout))
    #expect(f32.weightBytesPerDevice(layout) == device.weightBytesPerDevice(layout))
    let blocks = try device.numKVBlocks(layout, blockSize: 16)
    let f32Blocks = try f32.numKVBlocks(layout, blockSize: 16)
    #expect(abs(f32Blocks - blocks / 2) <= 1, "\(f32Blocks) vs \(blocks)")
    // 64 sequences with 4096 tokens of context: the K/V reads weigh against the weights' read.
    let decode = [Array(repeating: SequenceWork(newTokens: 1, contextTokens: 4096, samples: true), count: 64)]
    #expect(f32.stepSeconds(decode, layout: layout) > 1.2 * device.stepSeconds(decode, layout: layout))
    // The simulated engine sizes its cache and its host buffer by the same bytes.
    let plan = try PhasePlan(parsing: "pp1:tp1")
    let lengths = Array(repeating: (input: 2048, output: 256), count: 64)
    let auto = try LLMEngine.simulated(model: Self.llama15b, cluster: cluster, plan: plan, config: EngineConfig())
    let wide = try LLMEngine.simulated(
      model: Self.llama15b, cluster: cluster, plan: plan, config: EngineConfig(), kvBytesPerValue: 4)
    _ = (try auto.generate(lengths: lengths), try wide.generate(lengths: lengths))
    #expect(wide.simulatedSeconds > auto.simulatedSeconds, "\(wide.simulatedSeconds) vs \(auto.simulatedSeconds)")
  }

  @Test("micro-batches overlap in the pipeline schedule: 4 equal pieces on 4 stages take 7 stage times")
  func pipelineSchedule() throws {
    let cost = CostModel(model: Self.llama15b, cluster: try HardwareCatalog.cluster("4xA100-80G-SXM"))
    let piece = [SequenceWork(newTokens: 512, contextTokens: 512, samples: false)]
    let pp4 = ParallelConfig(pp: 4)
    let one = cost.stepSeconds([piece], layout: pp4)
    let four = cost.stepSeconds(Array(repeating: piece, count: 4), layout: pp4)
    // One micro-batch passes 4 stages (4 stage times); four take 4 + 3.
    #expect(abs(four / one - 7.0 / 4.0) < 0.05, "\(four / one)")
  }

  static func simulate(_ plan: String, hardware: String, workload: String, prompts: Int = 64) throws -> (
    Double, LLMEngine
  ) {
    let engine = try LLMEngine.simulated(
      model: Self.llama15b, cluster: try HardwareCatalog.cluster(hardware), plan: try PhasePlan(parsing: plan),
      config: EngineConfig())
    let lengths = try Workload.lengths(workload, count: prompts)
    let outputs = try engine.generate(lengths: lengths)
    #expect(zip(outputs, lengths).allSatisfy { $0.outputs[0].tokenIDs.count == $1.output })
    let tokens = lengths.reduce(0) { $0 + $1.input + $1.output }
    return (Double(tokens) / engine.simulatedSeconds, engine)
  }

  @Test("on PCIe A10s, pipeline parallelism wins prefill-heavy work and tensor parallelism wins decode-heavy work")
  func pcieTradeOff() throws {
    let (ppPrefill, _) = try Self.simulate("pp4", hardware: "4xA10", workload: "fixed:2000:2")
    let (tpPrefill, _) = try Self.simulate("tp4", hardware: "4xA10", workload: "fixed:2000:2")
    #expect(ppPrefill > tpPrefill, "prefill: pp4 \(ppPrefill) vs tp4 \(tpPrefill) tok/s")
    let (ppDecode, _) = try Self.simulate("pp4", hardware: "4xA10", workload: "fixed:50:500")
    let (tpDecode, _) = try Self.simulate("tp4", hardware: "4xA10", workload: "fixed:50:500")
    #expect(tpDecode > ppDecode, "decode: tp4 \(tpDecode) vs pp4 \(ppDecode) tok/s")
  }

  @Test("a Seesaw plan runs the real Seesaw scheduler in the simulator, switching layouts, and beats tp4 on arXiv")
  func seesawPlan() throws {
    let (seesaw, engine) = try Self.simulate("pp4:tp4", hardware: "4xA10", workload: "arxiv", prompts: 120)
    let (tp4, _) = try Self.simulate("tp4", hardware: "4xA10", workload: "arxiv", prompts: 120)
    #expect(engine.metrics.numTransitions >= 1 && engine.schedulerStats.seesaw != nil)
    #expect(seesaw > tp4, "pp4 -> tp4 \(seesaw) vs tp4 \(tp4) tok/s")
    // The same run twice gives the same virtual time.
    let (again, _) = try Self.simulate("pp4:tp4", hardware: "4xA10", workload: "arxiv", prompts: 120)
    #expect(again == seesaw)
  }

  @Test("a layout that does not fit or uses another device count is refused with the reason")
  func refusals() throws {
    #expect(throws: SimulationError.self) {
      _ = try LLMEngine.simulated(
        model: ModelShapes.named["llama2-70b"]!, cluster: try HardwareCatalog.cluster("2xA10"),
        plan: PhasePlan(static: ParallelConfig(tp: 2)), config: EngineConfig())
    }
    #expect(throws: SimulationError.self) {
      _ = try LLMEngine.simulated(
        model: Self.llama15b, cluster: try HardwareCatalog.cluster("4xA10"),
        plan: PhasePlan(static: ParallelConfig(tp: 2)),
        config: EngineConfig())
    }
  }
}

extension SimulatorTests {
  @Test("the planner lists every layout of the devices and ranks simulated plans, best first")
  func planner() throws {
    let layouts = Planner.layouts(devices: 4, model: Self.llama15b)
    #expect(Set(layouts.map(\.description)) == ["tp4", "tp2pp2", "pp4", "dp2tp2", "dp2pp2", "dp4"])
    let ranked = Planner.rank(
      model: Self.llama15b, cluster: try HardwareCatalog.cluster("4xA10"), lengths: Workload.arxiv(count: 40, seed: 1),
      budgets: [1024, 4096])
    #expect(!ranked.isEmpty && zip(ranked, ranked.dropFirst()).allSatisfy { $0.tokensPerSecond >= $1.tokensPerSecond })
    #expect(ranked.contains { !$0.plan.isStatic } && ranked.contains { $0.plan.isStatic })
    // dp4 cannot hold a 30 GB model on 24 GB devices: not a candidate.
    #expect(!ranked.contains { $0.plan.prefill.dp == 4 })
  }
}

extension SimulatorTests {
  @Test("a device file (what seesaw calibrate writes) loads as hardware, with its own byte sizes and efficiencies")
  func deviceFile() throws {
    var cpu = DeviceSpec(
      name: "cpu", peakFLOPS: 400e9, memoryBandwidth: 25e9, memoryBytes: 24e9, linkBandwidth: 3e9, linkLatency: 7e-5,
      hostBandwidth: 12e9, hostMemoryBytes: 24e9)
    cpu.computeEfficiency = 0.6
    cpu.memoryEfficiency = 0.9
    cpu.weightBytesPerParam = 0.625
    cpu.valueBytes = 4
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("seesaw-cpu-\(UUID().uuidString).json")
    defer { try? FileManager.default.removeItem(at: url) }
    try JSONEncoder().encode(cpu).write(to: url)
    let cluster = try HardwareCatalog.cluster("2x\(url.path)")
    #expect(cluster.count == 2 && cluster.device == cpu)
    // Batch-1 decode of SmolLM2 on it: the Q4_1 weights over 90% of 25 GB/s.
    let smol = ModelShapes.named["smollm2-135m"]!
    let cost = CostModel(model: smol, cluster: cluster)
    let step = cost.stepSeconds(
      [[SequenceWork(newTokens: 1, contextTokens: 10, samples: true)]], layout: ParallelConfig())
    let bytes = cost.weightBytesPerDevice(ParallelConfig())
    #expect(abs(step / (bytes / (25e9 * 0.9)) - 1) < 0.05)
    #expect(throws: SimulationError.self) { try HardwareCatalog.cluster("/nonexistent/cpu.json") }
  }
}

extension SimulatorTests {
  static func cpu(contention: [Double]? = nil) -> DeviceSpec {
    var cpu = DeviceSpec(
      name: "cpu", peakFLOPS: 400e9, memoryBandwidth: 25e9, memoryBytes: 24e9, linkBandwidth: 3e9, linkLatency: 0,
      hostBandwidth: 12e9, hostMemoryBytes: 24e9)
    cpu.computeEfficiencyCurve = [
      EfficiencyPoint(tokens: 1, efficiency: 0.1), EfficiencyPoint(tokens: 16, efficiency: 0.3),
      EfficiencyPoint(tokens: 1024, efficiency: 0.6),
    ]
    cpu.contention = contention
    return cpu
  }

  @Test("a measured efficiency curve interpolates in log(tokens) and holds its end values beyond its points")
  func efficiencyCurve() {
    let cpu = Self.cpu()
    #expect(cpu.computeEfficiency(tokens: 1) == 0.1 && cpu.computeEfficiency(tokens: 0.5) == 0.1)
    #expect(abs(cpu.computeEfficiency(tokens: 4) - 0.2) < 1e-12)
    #expect(abs(cpu.computeEfficiency(tokens: 128) - 0.45) < 1e-12)
    #expect(cpu.computeEfficiency(tokens: 8192) == 0.6)
    var gpu = cpu
    gpu.computeEfficiencyCurve = nil
    #expect(gpu.computeEfficiency(tokens: 3) == gpu.computeEfficiency)
  }

  @Test("ranks sharing one machine gain nothing from a pipeline when two at once run each twice as slow")
  func sharedMachinePipeline() throws {
    let smol = ModelShapes.named["smollm2-135m"]!
    let piece = [SequenceWork(newTokens: 512, contextTokens: 512, samples: false)]
    let pp2 = ParallelConfig(pp: 2)
    let alone = CostModel(model: smol, cluster: Cluster(device: Self.cpu(), count: 1))
      .stepSeconds([piece, piece], layout: ParallelConfig())
    let dedicated = CostModel(model: smol, cluster: Cluster(device: Self.cpu(), count: 2))
      .stepSeconds([piece, piece], layout: pp2)
    let shared = CostModel(model: smol, cluster: Cluster(device: Self.cpu(contention: [1, 2]), count: 2))
      .stepSeconds([piece, piece], layout: pp2)
    // Two pieces on two stages: 3 stage times of half the model on separate devices; on a shared machine the
    // middle one runs both stages at half speed, so the whole model's two pieces take what one device takes.
    #expect(abs(dedicated / alone - 0.75) < 0.02, "\(dedicated) vs \(alone)")
    #expect(abs(shared / alone - 1) < 0.02, "\(shared) vs \(alone)")
    // Beyond the measured entries the slowdown grows in proportion to the busy devices.
    #expect(DeviceSpec.slowdown([1, 1.8], busy: 4) == 3.6 && DeviceSpec.slowdown([1, 1.8], busy: 1) == 1)
  }

  @Test("attention reads K/V at the device's attention efficiency of the bandwidth, not at the memory efficiency")
  func attentionEfficiency() {
    let smol = ModelShapes.named["smollm2-135m"]!
    let decode = Array(repeating: SequenceWork(newTokens: 1, contextTokens: 4096, samples: false), count: 64)
    let noContext = Array(repeating: SequenceWork(newTokens: 1, contextTokens: 1, samples: false), count: 64)
    var device = Self.cpu()
    device.memoryEfficiency = 1
    let roof = CostModel(model: smol, cluster: Cluster(device: device, count: 1))
    device.attentionEfficiency = 0.5
    let measured = CostModel(model: smol, cluster: Cluster(device: device, count: 1))
    let attentionOnly = { (cost: CostModel) in
      cost.stageCost(decode, layers: 1, tp: 1, pp: 1, lastStage: false).compute
        - cost.stageCost(noContext, layers: 1, tp: 1, pp: 1, lastStage: false).compute
    }
    #expect(abs(attentionOnly(measured) / attentionOnly(roof) - 2) < 1e-9)
    // K and V of 3 KV heads of 64 dims per context token, at the device's bytes per value.
    #expect(roof.kvReadBytes(decode, tp: 1) == 64 * 4096 * 2 * 3 * 64 * device.valueBytes)
  }

  @Test("each simulated step adds the driver's sampling: sampled rows x vocabulary x the device's time per logit")
  func samplingTime() throws {
    let smol = ModelShapes.named["smollm2-135m"]!
    func run(perLogit: Double?) throws -> LLMEngine {
      var device = Self.cpu()
      device.sampleSecondsPerLogit = perLogit
      let engine = try LLMEngine.simulated(
        model: smol, cluster: Cluster(device: device, count: 1), plan: PhasePlan(static: ParallelConfig()),
        config: EngineConfig())
      _ = try engine.generate(lengths: Array(repeating: (input: 16, output: 3), count: 4))
      return engine
    }
    let (without, with) = (try run(perLogit: nil), try run(perLogit: 1e-9))
    // 4 requests of 3 output tokens: 12 sampled rows of 49,152 logits.
    let expected = 12 * Double(smol.vocabSize) * 1e-9
    #expect(abs(with.simulatedSeconds - without.simulatedSeconds - expected) < 1e-12)
    #expect(abs(with.metrics.sampleSeconds - expected) < 1e-12 && without.metrics.sampleSeconds == 0)
  }

  @Test("a tensor-parallel group on a shared machine slows by its lockstep contention, a pipeline by the plain one")
  func lockstepContention() {
    let smol = ModelShapes.named["smollm2-135m"]!
    let decode = [Array(repeating: SequenceWork(newTokens: 1, contextTokens: 256, samples: true), count: 64)]
    let piece = [SequenceWork(newTokens: 512, contextTokens: 512, samples: true)]
    let prefill = [piece, piece]  // two micro-batches: the stages compute at once in the middle
    let (tp2, pp2) = (ParallelConfig(tp: 2), ParallelConfig(pp: 2))
    var device = Self.cpu()
    let dedicated = CostModel(model: smol, cluster: Cluster(device: device, count: 2))
    device.contention = [1, 1.2]
    let plain = CostModel(model: smol, cluster: Cluster(device: device, count: 2))
    device.lockstepContention = [1, 1.5]
    let lockstep = CostModel(model: smol, cluster: Cluster(device: device, count: 2))
    // Both ranks of tp2 compute through the whole step: compute c and all-reduces m give c + m, 1.2c + m, 1.5c + m.
    let (d, a, b) = (
      dedicated.stepSeconds(decode, layout: tp2), plain.stepSeconds(decode, layout: tp2),
      lockstep.stepSeconds(decode, layout: tp2)
    )
    #expect(a > d && abs((b - a) / (a - d) - 1.5) < 1e-9, "\(d) \(a) \(b)")
    // Pipeline stages meet once per micro-batch, not at every layer: the plain contention holds for them.
    #expect(lockstep.stepSeconds(prefill, layout: pp2) == plain.stepSeconds(prefill, layout: pp2))
    #expect(lockstep.stepSeconds(prefill, layout: pp2) > dedicated.stepSeconds(prefill, layout: pp2))
  }

  @Test("a tensor-parallel group moves at its busiest rank: SmolLM2's 9 heads in 3 KV groups split 6 + 3 over 2")
  func unevenHeads() throws {
    let smol = ModelShapes.named["smollm2-135m"]!
    let cost = CostModel(model: smol, cluster: Cluster(device: Self.cpu(), count: 3))
    let (h, d, inter) = (Double(smol.hiddenSize), Double(smol.headDim), Double(smol.intermediateSize))
    let tp2 = cost.rankShare(tp: 2)
    #expect(tp2.queryHeads == 6 && tp2.kvHeads == 2)
    #expect(tp2.layerParams == h * (6 + 2 * 2) * d + 6 * d * h + 3 * h * inter / 2)
    let tp3 = cost.rankShare(tp: 3)
    #expect(tp3.queryHeads == 3 && tp3.kvHeads == 1 && abs(3 * tp3.layerParams - cost.layerParams) < 1)
    // A decode step's attention (K/V reads) on tp2 is two thirds of tp1's, not half.
    let decode = Array(repeating: SequenceWork(newTokens: 1, contextTokens: 4096, samples: false), count: 64)
    let noContext = Array(repeating: SequenceWork(newTokens: 1, contextTokens: 1, samples: false), count: 64)
    let attentionOnly = { (tp: Int) in
      cost.stageCost(decode, layers: 1, tp: tp, pp: 1, lastStage: false).compute
        - cost.stageCost(noContext, layers: 1, tp: tp, pp: 1, lastStage: false).compute
    }
    #expect(abs(attentionOnly(2) / attentionOnly(1) - 2.0 / 3) < 0.01, "\(attentionOnly(2) / attentionOnly(1))")
    #expect(
      cost.kvBytesPerTokenPerDevice(ParallelConfig(tp: 2)) * 3 == 2 * cost.kvBytesPerTokenPerDevice(ParallelConfig()))
  }

  @Test("a measured head curve prices the LM head apart from the layers, by its sampled rows")
  func headEfficiency() throws {
    let smol = ModelShapes.named["smollm2-135m"]!
    var device = Self.cpu()
    device.computeEfficiencyCurve = [EfficiencyPoint(tokens: 1, efficiency: 0.3)]
    let decode = Array(repeating: SequenceWork(newTokens: 1, contextTokens: 100, samples: true), count: 64)
    let shared = CostModel(model: smol, cluster: Cluster(device: device, count: 1))
      .stageCost(decode, layers: 30, tp: 1, pp: 1, lastStage: true).compute
    device.headEfficiencyCurve = [
      EfficiencyPoint(tokens: 4, efficiency: 0.5), EfficiencyPoint(tokens: 64, efficiency: 0.9),
    ]
    let cost = CostModel(model: smol, cluster: Cluster(device: device, count: 1))
    let apart = cost.stageCost(decode, layers: 30, tp: 1, pp: 1, lastStage: true).compute
    let headFLOPs = 2 * 64 * Double(smol.vocabSize * smol.hiddenSize)
    #expect(abs((shared - apart) - (headFLOPs / (400e9 * 0.3) - headFLOPs / (400e9 * 0.9))) < 1e-9)
    // A stage without the head costs the same either way; 16 rows interpolate between the points in log(rows).
    var layersOnly = device
    layersOnly.headEfficiencyCurve = nil
    #expect(
      cost.stageCost(decode, layers: 15, tp: 1, pp: 2, lastStage: false)
        == CostModel(model: smol, cluster: Cluster(device: layersOnly, count: 1))
        .stageCost(decode, layers: 15, tp: 1, pp: 2, lastStage: false))
    #expect(abs(device.headEfficiency(rows: 16)! - 0.7) < 1e-12 && Self.cpu().headEfficiency(rows: 16) == nil)
  }

  @Test("on a device with a token granularity, 49 tokens' linear layers cost what 64 do, and 8 tokens cost 8")
  func tokenGranularity() throws {
    let smol = ModelShapes.named["smollm2-135m"]!
    var device = Self.cpu()
    device.computeEfficiencyCurve = [EfficiencyPoint(tokens: 1, efficiency: 0.3)]
    device.tokenGranularity = 16
    func linear(_ tokens: Int, _ d: DeviceSpec) -> Double {
      let work = Array(repeating: SequenceWork(newTokens: 1, contextTokens: 1, samples: false), count: tokens)
      return CostModel(model: smol, cluster: Cluster(device: d, count: 1))
        .stageCost(work, layers: 1, tp: 1, pp: 1, lastStage: false).compute
    }
    let attention = linear(64, device) - linear(49, device)  // the linear parts are equal; 15 tokens' attention
    #expect(attention > 0 && attention < 0.01 * linear(64, device))
    var exact = device
    exact.tokenGranularity = nil
    #expect(linear(8, device) == linear(8, exact) && linear(64, device) == linear(64, exact))
    #expect(linear(49, exact) < 0.8 * linear(49, device))
  }

  @Test("sampled rows' logits cost a gather to the driver: tp - 1 slices without stages, tp slices from the last stage")
  func logitsGather() throws {
    let smol = ModelShapes.named["smollm2-135m"]!
    let cost = CostModel(model: smol, cluster: Cluster(device: Self.cpu(), count: 4))
    let row = Double(smol.vocabSize) * cost.bytesPerValue / 3e9
    #expect(cost.logitsGather(rows: 10, tp: 1, driverInStage: true) == 0)
    #expect(abs(cost.logitsGather(rows: 10, tp: 2, driverInStage: true) - 10 * row / 2) < 1e-12)
    #expect(abs(cost.logitsGather(rows: 10, tp: 2, driverInStage: false) - 10 * row) < 1e-12)
  }
}

extension SimulatorTests {
  @Test("on 4 NVLink A100s a static layout without pipeline stages ranks first: Seesaw has nothing to gain there")
  func nvlinkPrefersTensorParallelism() throws {
    let cluster = try HardwareCatalog.cluster("4xA100-40G-NVLink")
    for lengths in [Workload.arxiv(count: 40, seed: 2), Array(repeating: (input: 300, output: 300), count: 80)] {
      let ranked = Planner.rank(model: Self.llama15b, cluster: cluster, lengths: lengths, budgets: [512, 2048])
      let best = try #require(ranked.first)
      #expect(best.plan.isStatic && best.plan.prefill.pp == 1 && best.plan.prefill.tp >= 2, "\(best.plan)")
    }
  }
}
