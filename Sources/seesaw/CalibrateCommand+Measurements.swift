import Dispatch
import SeesawEngine
import SeesawModel
import SeesawParallel
import SeesawTensor

/// What `seesaw calibrate` measures besides the model's steps: tensor-parallel shards, the sampler, the communicator.
extension CalibrateCommand {
  /// The `tp` shards of a tensor-parallel group, on in-process ranks of one group, with a written-through cache each;
  /// and the busiest one (most query heads) again, alone (`SoloCommunicator`).
  static func shards(_ files: ModelFiles, tp: Int, backend: Backend, probe: StepProbe) throws -> (
    shards: [LlamaModel], caches: [PagedKVCache], busiest: ArraySlice<LlamaModel>,
    busiestCache: ArraySlice<PagedKVCache>
  ) {
    let world = LocalCommunicator.world(size: tp)
    let shards = try (0..<tp).map {
      try files.loadShard(tp: tp, pp: 1, stage: 0, tpGroup: world[$0], backend: backend)
    }
    let rank = shards.indices.max { shards[$0].shard.qHeads.count < shards[$1].shard.qHeads.count }!
    let alone = try files.loadShard(
      tp: tp, pp: 1, stage: 0, tpGroup: SoloCommunicator(rank: rank, size: tp), backend: backend)
    let caches = (shards + [alone]).map { model -> PagedKVCache in
      model.backend.materialize(model.matrices)
      return probe.makeCache(for: model)
    }
    return (shards, Array(caches.prefix(tp)), [alone], [caches[tp]])
  }

  /// Seconds per logit of the engine's greedy sampling as the driver runs it after a step (each row copied into a
  /// scratch, then `Sampler.sample`), over 64 rows of varied logits: the median of 5 passes.
  static func sampleSecondsPerLogit(vocab: Int) -> Double {
    let rows = 64
    let logits = Tensor(uninitialized: [rows, vocab])  // [rows, vocab]
    for i in 0..<logits.count { logits.data[i] = Float((i &* 7919) % 1009) / 1009 }
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: vocab)
    defer { scratch.deallocate() }
    let params = SamplingParams.greedy(maxTokens: 1)
    var passes: [Double] = []
    for _ in 0..<5 {
      let start = DispatchTime.now().uptimeNanoseconds
      for r in 0..<rows {
        scratch.update(from: logits.row(r), count: vocab)
        _ = Sampler.sample(scratch, vocab: vocab, params: params, history: nil, random: 0)
      }
      passes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return passes.sorted()[2] / Double(rows * vocab)
  }

  /// Two in-process ranks: the time of a one-float all-reduce (latency), and bytes per second of a 16 MB one.
  static func communicator() throws -> (latency: Double, bandwidth: Double) {
    let results = LocalCommunicator.onThreads(LocalCommunicator.world(size: 2)) { comm -> (Double, Double) in
      var one: Float = 1
      let big = UnsafeMutablePointer<Float>.allocate(capacity: 4 << 20)
      defer { big.deallocate() }
      big.initialize(repeating: 1, count: 4 << 20)
      for _ in 0..<10 { try comm.allReduceSum(&one, count: 1) }
      var start = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<200 { try comm.allReduceSum(&one, count: 1) }
      let latency = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / 200
      start = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<5 { try comm.allReduceSum(big, count: 4 << 20) }
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / 5
      // A ring all-reduce of n ranks moves 2(n - 1)/n of the buffer: the buffer's bytes for two ranks.
      return (latency, Double(16 << 20) / max(seconds - latency, 1e-9))
    }
    return try results[0].get()
  }
}
