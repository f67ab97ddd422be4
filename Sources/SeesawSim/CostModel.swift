import SeesawModel
import SeesawParallel

/// What a step computes, per sequence: new tokens and the context they attend to (tokens before them + their own).
public struct SequenceWork: Sendable, Equatable {
  public var newTokens: Int
  public var contextTokens: Int
  /// Whether the sequence samples (its last token's logits go through the LM head).
  public var samples: Bool

  public init(newTokens: Int, contextTokens: Int, samples: Bool) {
    self.newTokens = newTokens
    self.contextTokens = contextTokens
    self.samples = samples
  }
}

/// The roofline cost of a step on a modelled cluster (the paper's Appendix A, per op):
///
///     per layer and stage   max(linear FLOPs / compute, linear weight bytes / bandwidth)
///                         + max(attention FLOPs / compute, K/V bytes / bandwidth at the attention efficiency)
///                         + 2 all-reduces of tokens x hidden x 2 bytes (ring: latency + 2(t-1)/t bytes / link)
///     last stage           LM head of the sampled rows, and their logits gathered on the driver
///     pipeline             micro-batches through pp stages: (stage times of all micro-batches) + fill and drain,
///                          plus tokens x hidden x 2 bytes per stage boundary
///
/// Byte sizes and efficiency factors come from the device: FP16 and cited factors for GPUs (dense GEMMs reach about
/// 70% of the tensor peak, streaming kernels about 85% of memory bandwidth, as vLLM and FlashAttention report),
/// measured ones for a calibrated CPU, whose compute efficiency is a curve over the tokens of a forward pass
/// (`DeviceSpec.computeEfficiencyCurve`) and whose attention reads K/V at a measured share of the bandwidth
/// (`DeviceSpec.attentionEfficiency`). Nothing is tuned to the paper's results.
public struct CostModel: Sendable {
  public var model: ModelConfig
  public var cluster: Cluster
  public var computeEfficiency: Double { cluster.device.computeEfficiency }
  public var memoryEfficiency: Double { cluster.device.memoryEfficiency }
  /// Bytes of an activation value.
  public var bytesPerValue: Double { cluster.device.valueBytes }
  /// Bytes of a K/V value in the caches and host buffers: the device's value size unless the engine stores another
  /// (`--kv-cache-dtype`).
  public var kvBytesPerValue: Double

  public init(model: ModelConfig, cluster: Cluster, kvBytesPerValue: Double? = nil) {
    self.model = model
    self.cluster = cluster
    self.kvBytesPerValue = kvBytesPerValue ?? cluster.device.valueBytes
  }

  /// Parameters of one layer's linear maps.
  public var layerParams: Double { Double(model.linearParamsPerLayer) }

  /// What the busiest of `tp` tensor-parallel ranks holds of one layer, as `LlamaShard` splits it: query and KV
  /// heads go by KV group, so they can split unevenly (SmolLM2's 9 heads in 3 groups over 2 ranks: 6 + 3, and that
  /// rank's attention and q/k/v/o take two thirds of the layer's); MLP columns split evenly. The other ranks wait for
  /// it at every all-reduce. A split `LlamaShard` refuses counts as even (a layout the engine would not run anyway).
  public struct RankShare: Sendable, Equatable {
    public var queryHeads: Double
    public var kvHeads: Double
    /// Parameters of the layer's linear maps on that rank.
    public var layerParams: Double
  }

  public func rankShare(tp: Int) -> RankShare {
    let t = Double(tp)
    let (q, kv) =
      LlamaShard.busiestHeads(config: model, tp: tp).map { (Double($0.query), Double($0.kv)) }
      ?? (Double(model.numHeads) / t, max(1, Double(model.numKVHeads) / t))
    let (h, d) = (Double(model.hiddenSize), Double(model.headDim))
    let params = h * (q + 2 * kv) * d + q * d * h + 3 * h * Double(model.intermediateSize) / t
    return RankShare(queryHeads: q, kvHeads: kv, layerParams: params)
  }

  /// Weight bytes each device holds in a layout (its layers' share plus the embedding and LM head shares), for the
  /// busiest rank of a tensor-parallel group.
  public func weightBytesPerDevice(_ layout: ParallelConfig) -> Double {
    let layers = Double(model.numLayers) / Double(layout.pp)
    let embeddings = Double(model.vocabSize * model.hiddenSize) * (model.tieWordEmbeddings ? 1 : 2)
    return (layers * rankShare(tp: layout.tp).layerParams + embeddings / Double(layout.pp) / Double(layout.tp))
      * cluster.device.weightBytesPerParam
  }

  /// K/V bytes per token on one device of the layout (its layers, the busiest rank's KV heads).
  public func kvBytesPerTokenPerDevice(_ layout: ParallelConfig) -> Double {
    let heads = rankShare(tp: layout.tp).kvHeads
    return 2 * Double(model.numLayers) / Double(layout.pp) * heads * Double(model.headDim) * kvBytesPerValue
  }

  /// Bytes of K/V one layer's attention reads in a step (the busiest rank's KV heads): each sequence's context, once.
  public func kvReadBytes(_ work: [SequenceWork], tp: Int) -> Double {
    let perToken = 2 * rankShare(tp: tp).kvHeads * Double(model.headDim) * kvBytesPerValue
    return work.reduce(0) { $0 + Double($1.contextTokens) * perToken }
  }

  /// Bytes per second at which attention reads K/V.
  var attentionBandwidth: Double {
    cluster.device.memoryBandwidth * (cluster.device.attentionEfficiency ?? memoryEfficiency)
  }

  /// FLOP/s the device reaches on a forward pass of `tokens` tokens.
  func flops(tokens: Double) -> Double { cluster.device.peakFLOPS * cluster.device.computeEfficiency(tokens: tokens) }
  var bandwidth: Double { cluster.device.memoryBandwidth * memoryEfficiency }

  /// Seconds of one stage (`layers` layers) of one tensor-parallel group on a micro-batch: its devices computing,
  /// and waiting on links (all-reduces, the logits gather).
  func stageCost(_ work: [SequenceWork], layers: Double, tp: Int, pp: Int, lastStage: Bool) -> StageCost {
    let t = Double(tp)
    let tokens = Double(work.reduce(0) { $0 + $1.newTokens })
    guard tokens > 0 else { return StageCost(compute: 0, communication: 0) }
    let rate = flops(tokens: tokens)
    let weightBytes = cluster.device.weightBytesPerParam
    // The busiest rank's share: the group moves at its pace.
    let share = rankShare(tp: tp)
    let computed =
      cluster.device.tokenGranularity.map { g in
        tokens >= Double(g) ? (tokens / Double(g)).rounded(.up) * Double(g) : tokens
      } ?? tokens
    let linear = max(2 * computed * share.layerParams / rate, share.layerParams * weightBytes / bandwidth)
    // Attention: QK^T and PV, 2 FLOPs each per (query token, key, dim); K/V read once per sequence.
    var attentionFLOPs = 0.0
    let d = Double(model.headDim)
    for w in work {
      let meanContext = Double(w.contextTokens) - Double(w.newTokens - 1) / 2
      attentionFLOPs += 4 * Double(w.newTokens) * meanContext * share.queryHeads * d
    }
    let attention = max(attentionFLOPs / rate, kvReadBytes(work, tp: tp) / attentionBandwidth)
    var cost = StageCost(
      compute: layers * (linear + attention), communication: layers * layerAllReduceSeconds(tokens: tokens, tp: tp))
    if lastStage {
      let rows = Double(work.filter(\.samples).count)
      let head = Double(model.vocabSize * model.hiddenSize) / t
      let headRate = cluster.device.headEfficiency(rows: rows).map { cluster.device.peakFLOPS * $0 } ?? rate
      cost.compute += max(2 * rows * head / headRate, head * weightBytes / bandwidth)
      cost.communication += logitsGather(rows: rows, tp: tp, driverInStage: pp == 1)
    }
    return cost
  }

  /// The driver samples from whole logits rows: each rank of the last stage sends its vocabulary slice of the
  /// sampled rows to it, one after another over its link (the driver's own slice stays local when it is in that
  /// stage, i.e. without pipeline stages).
  func logitsGather(rows: Double, tp: Int, driverInStage: Bool) -> Double {
    let senders = driverInStage ? tp - 1 : tp
    guard rows > 0, senders > 0 else { return 0 }
    let bytes = rows * Double(model.vocabSize) / Double(tp) * bytesPerValue
    return Double(senders) * (cluster.device.linkLatency + bytes / cluster.device.effectiveLinkBandwidth)
  }

  /// Seconds of one layer's two all-reduces of the hidden states of `tokens` tokens in a group of `tp` ranks.
  public func layerAllReduceSeconds(tokens: Double, tp: Int) -> Double {
    tp > 1 ? 2 * ringAllReduce(bytes: tokens * Double(model.hiddenSize) * bytesPerValue, ranks: tp) : 0
  }

  /// Ring all-reduce: 2(n-1) steps, each moving bytes/n over the link.
  func ringAllReduce(bytes: Double, ranks: Int) -> Double {
    let n = Double(ranks)
    return 2 * (n - 1) * cluster.device.linkLatency + 2 * (n - 1) / n * bytes / cluster.device.effectiveLinkBandwidth
  }

  /// Seconds of one step of one replica in `layout`: its micro-batches (`ParallelExecutor.microBatches`) through the
  /// stages.
  public func stepSeconds(_ microBatches: [[SequenceWork]], layout: ParallelConfig) -> Double {
    guard !microBatches.isEmpty else { return 0 }
    let layersPerStage = Double(model.numLayers) / Double(layout.pp)
    // [microBatch][stage] costs, with the send to the next stage.
    let costs = microBatches.map { mb -> [StageCost] in
      let tokens = Double(mb.reduce(0) { $0 + $1.newTokens })
      let send =
        layout.pp > 1
        ? cluster.device.linkLatency + tokens * Double(model.hiddenSize) * bytesPerValue
          / cluster.device.effectiveLinkBandwidth : 0
      return (0..<layout.pp).map { s in
        var cost = stageCost(mb, layers: layersPerStage, tp: layout.tp, pp: layout.pp, lastStage: s == layout.pp - 1)
        if s < layout.pp - 1 { cost.communication += send }
        return cost
      }
    }
    let schedule = PipelineSchedule(costs: costs, devicesPerStage: layout.tp)
    let device = cluster.device
    guard let contention = layout.tp > 1 ? device.lockstepContention ?? device.contention : device.contention else {
      return schedule.dedicatedSeconds
    }
    return schedule.sharedSeconds { DeviceSpec.slowdown(contention, busy: $0) }
  }

  /// Seconds the driver takes to sample `rows` rows of logits after a step.
  public func sampleSeconds(rows: Int) -> Double {
    Double(rows * model.vocabSize) * (cluster.device.sampleSecondsPerLogit ?? 0)
  }

  /// Seconds to bring a layout's weight shard onto each device from host memory (a Seesaw switch).
  public func reshardSeconds(to layout: ParallelConfig) -> Double {
    weightBytesPerDevice(layout) / cluster.device.hostBandwidth
  }

  /// Seconds to copy `tokens` tokens of K/V between one device and the host.
  public func swapSeconds(tokens: Int, layout: ParallelConfig) -> Double {
    Double(tokens) * kvBytesPerTokenPerDevice(layout) / cluster.device.hostBandwidth
  }

  /// KV blocks each device can hold in a layout after its weights (90% of memory usable, as vLLM's default).
  public func numKVBlocks(_ layout: ParallelConfig, blockSize: Int) throws -> Int {
    let free = 0.9 * cluster.device.memoryBytes - weightBytesPerDevice(layout)
    guard free > 0 else {
      throw SimulationError.doesNotFit(
        layout: layout.description,
        reason: "\(Int(weightBytesPerDevice(layout) / 1e9)) GB of weights per device on \(cluster.device.name)")
    }
    return Int(free / (kvBytesPerTokenPerDevice(layout) * Double(blockSize)))
  }
}
