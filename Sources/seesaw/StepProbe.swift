import Dispatch
import SeesawModel
import SeesawParallel
import SeesawSim
import SeesawTensor

/// Engine-shaped forward passes for `seesaw calibrate`: a step of `tokens` tokens is `tokens` decode sequences (one
/// token each at context `promptLength`) up to 256, else prompts of `promptLength` tokens, as a prefill step of the
/// engine packs them.
struct StepProbe {
  let config: ModelConfig
  let promptLength: Int
  let steps: [Int]
  static let blockSize = 16
  static let maxDecodeBatch = 256

  var blocksPerSequence: Int { (promptLength + 1 + Self.blockSize - 1) / Self.blockSize }
  /// Blocks of a cache for the largest step's sequences.
  var numBlocks: Int { (steps.map { shape(tokens: $0).sequences }.max() ?? 1) * blocksPerSequence }

  /// Sequences of the step and their tokens each.
  func shape(tokens: Int) -> (sequences: Int, tokensEach: Int) {
    tokens <= Self.maxDecodeBatch ? (tokens, 1) : (max(1, tokens / promptLength), promptLength)
  }

  /// A cache with distinct blocks for the largest step's sequences, written through (K/V reads of a real batch: a
  /// page never written reads as the kernel's shared zero page, which stays in cache and flatters attention).
  /// For a shard's layers and KV heads when `shard` is given.
  func makeCache(for shard: LlamaModel? = nil) -> PagedKVCache {
    let cache =
      shard?.makeCache(numBlocks: numBlocks)
      ?? PagedKVCache(config: config, numBlocks: numBlocks, blockSize: Self.blockSize)
    cache.fill(0.01)
    return cache
  }

  func batch(tokens: Int) -> ForwardBatch {
    let (sequences, each) = shape(tokens: tokens)
    let start = each == 1 ? promptLength : 0
    return ForwardBatch(
      chunks: (0..<sequences).map { s in
        .init(
          tokens: (0..<each).map { Int32(($0 * 7919 + s) % config.vocabSize) }, startPosition: start,
          blockTable: (0..<Int32(blocksPerSequence)).map { Int32(s * blocksPerSequence) + $0 })
      }, blockSize: Self.blockSize)
  }

  /// The cost model's view of the same step (one device; every sequence sampled, or none: the layers alone).
  func work(tokens: Int, samples: Bool = true) -> [SequenceWork] {
    let (sequences, each) = shape(tokens: tokens)
    let context = each == 1 ? promptLength + 1 : each
    return Array(repeating: SequenceWork(newTokens: each, contextTokens: context, samples: samples), count: sequences)
  }

  /// Seconds of the LM head (final norm included) in a step of `tokens` tokens on `model`, i.e. on its sampled
  /// rows: decode passes of that many sequences with and without logits alternate, at least 5 pairs (up to 15,
  /// until about a second has passed), and the median difference of a pair is kept, so that drift of the host's
  /// speed between passes cancels. (A prefill step's own body is too long for its few rows' head to show through
  /// the noise of a difference.)
  func headTime(_ model: LlamaModel, _ cache: PagedKVCache, tokens: Int) -> Double {
    let full = batch(tokens: shape(tokens: tokens).sequences)
    var body = full
    body.logitRows = []
    func seconds(_ b: ForwardBatch) -> Double {
      let start = DispatchTime.now().uptimeNanoseconds
      _ = model.forward(b, cache: cache)
      return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    _ = seconds(full)
    var differences: [Double] = []
    var spent = 0.0
    while differences.count < 15 && (differences.count < 5 || spent < 1) {
      let (a, b) = (seconds(full), seconds(body))
      differences.append(a - b)
      spent += a + b
    }
    return max(0, differences.sorted()[differences.count / 2])
  }

  /// The head's compute efficiency that explains `seconds` for `rows` sampled rows on `device` (the cost model's
  /// head term: max(FLOPs / (peak x efficiency), weight bytes / bandwidth)); 1 when the memory side explains it.
  func headEfficiency(device: DeviceSpec, rows: Int, matching seconds: Double) -> Double {
    let head = Double(config.vocabSize * config.hiddenSize)
    let flops = 2 * Double(rows) * head
    let memory = head * device.weightBytesPerParam / (device.memoryBandwidth * device.memoryEfficiency)
    guard seconds > memory else { return 1 }
    return min(1, max(1e-4, flops / (device.peakFLOPS * seconds)))
  }

  /// Seconds of one step of `tokens` tokens on each model while all of them run one at once: the median of at least
  /// 3 passes after a warm-up (more, up to 9, until about half a second has passed), of the slowest model: ranks that
  /// meet at every all-reduce or stage hand-off go at its pace. The median, like the mean step time a bench run
  /// reports, carries the host's typical load; the fastest pass would flatter the machine whenever other tenants
  /// share it.
  func time(_ models: ArraySlice<LlamaModel>, _ caches: ArraySlice<PagedKVCache>, tokens: Int) throws -> Double {
    try concurrentMedians(models, caches, tokens: tokens) { runs in
      runs.count < 9 && (runs.count < 3 || runs.reduce(0, +) < 0.5)
    }
  }

  /// `time` for the shards of a tensor-parallel group, whose all-reduces hold each to the pace of the slowest at every
  /// layer: every shard runs the same count of passes (a rank that ran one more would wait forever), 5 after a
  /// warm-up.
  func lockstepTime(_ shards: ArraySlice<LlamaModel>, _ caches: ArraySlice<PagedKVCache>, tokens: Int) throws
    -> Double
  {
    try concurrentMedians(shards, caches, tokens: tokens) { $0.count < 5 }
  }

  /// The slowest model's median pass over the passes `more` asks for, each model on its own thread (a warm-up pass
  /// first). Models are whole or shards (`forwardStage` from token ids).
  private func concurrentMedians(
    _ models: ArraySlice<LlamaModel>, _ caches: ArraySlice<PagedKVCache>, tokens: Int, more: ([Double]) -> Bool
  ) throws -> Double {
    let batch = batch(tokens: tokens)
    let (models, caches) = (Array(models), Array(caches))
    var results = [Result<Double, Error>](repeating: .success(0), count: models.count)
    results.withUnsafeMutableBufferPointer { out in
      let out = out
      DispatchQueue.concurrentPerform(iterations: models.count) { i in
        out[i] = Result {
          _ = try models[i].forwardStage(batch, cache: caches[i], input: nil)
          var runs: [Double] = []
          while more(runs) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try models[i].forwardStage(batch, cache: caches[i], input: nil)
            runs.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
          }
          return runs.sorted()[runs.count / 2]
        }
      }
    }
    return try results.map { try $0.get() }.max()!
  }

  /// Seconds of the attention kernel alone in a step of `tokens` tokens on `cache` (every layer's K/V, read by
  /// made-up queries at the step's positions): the median of 5 passes after a warm-up.
  func attentionTime(_ cache: PagedKVCache, tokens: Int) -> Double {
    let batch = batch(tokens: tokens)
    let shape = AttentionShape(
      numHeads: config.numHeads, numKVHeads: config.numKVHeads, headDim: config.headDim, blockSize: Self.blockSize,
      slidingWindow: config.slidingWindow)
    let q = Tensor(uninitialized: [batch.numTokens, config.numHeads * config.headDim])  // [tokens, qDim]
    for i in 0..<q.count { q.data[i] = Float(i % 17) / 17 - 0.5 }
    let out = Tensor(uninitialized: [batch.numTokens, config.numHeads * config.headDim])  // [tokens, qDim]
    func pass() -> Double {
      let start = DispatchTime.now().uptimeNanoseconds
      for layer in 0..<cache.numLayers {
        PagedAttention.forward(
          q: q.data, out: out.data, positions: batch.positions, sequences: batch.sequences,
          kCache: cache.keys[layer], vCache: cache.values[layer], kvDType: cache.dtype, shape: shape)
      }
      return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    _ = pass()
    return (0..<5).map { _ in pass() }.sorted()[2]
  }

  /// The cost model's seconds for a step of `tokens` tokens (without sampling) at full efficiency on `device` with
  /// only its compute roof, and with only its memory roof: a measured step that takes less than either ran above
  /// that roof as `Roofline` measured it (`CalibrateCommand.raisingRoofs`).
  func roofSeconds(device: DeviceSpec, tokens: Int) -> (compute: Double, memory: Double) {
    var d = device
    d.computeEfficiencyCurve = nil
    d.computeEfficiency = 1
    d.memoryEfficiency = 1
    d.attentionEfficiency = 1
    func seconds(_ d: DeviceSpec) -> Double {
      CostModel(model: config, cluster: Cluster(device: d, count: 1)).stepSeconds(
        [work(tokens: tokens, samples: false)], layout: ParallelConfig())
    }
    var compute = d
    compute.memoryBandwidth = .infinity
    var memory = d
    memory.peakFLOPS = .infinity
    return (seconds(compute), seconds(memory))
  }

  /// The compute efficiency at which the cost model predicts `seconds` for the step on `device` (bisection; the
  /// prediction falls as efficiency rises). A step slower than the model at any efficiency floors at 1e-4; one the
  /// memory side alone explains gets the smallest efficiency that keeps compute from mattering.
  func efficiency(device: DeviceSpec, tokens: Int, matching seconds: Double, samples: Bool = true) -> Double {
    let work = [work(tokens: tokens, samples: samples)]
    func predicted(_ e: Double) -> Double {
      var d = device
      d.computeEfficiencyCurve = nil
      d.computeEfficiency = e
      return CostModel(model: config, cluster: Cluster(device: d, count: 1)).stepSeconds(work, layout: ParallelConfig())
    }
    var (lo, hi) = (1e-4, 1.0)
    if predicted(hi) > seconds { return hi }
    if predicted(lo) <= seconds { return lo }
    for _ in 0..<50 {
      let mid = (lo * hi).squareRoot()
      if predicted(mid) > seconds * (1 + 1e-9) { lo = mid } else { hi = mid }
    }
    return hi
  }
}
