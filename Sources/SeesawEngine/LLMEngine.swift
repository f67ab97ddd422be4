import Dispatch
import Foundation
import SeesawModel
import SeesawTensor
import SeesawTokenizer

/// The offline engine: requests in, completions out, one step at a time.
///
///     step():  scheduler.schedule()  ->  executor.execute(output)  ->  scheduler.update(stepOutput)
///              then detokenize, check stop strings, and hand back the requests that finished
///
/// With data parallelism there is one scheduler and executor per replica; a request goes to the replica with the
/// least work queued, and a step submits every replica's work before it collects any.
public final class LLMEngine {
  public let config: EngineConfig
  public let tokenizer: Tokenizer?
  /// One per data-parallel replica.
  var replicas: [Replica]
  /// The ranks behind the executors, when the engine runs a parallel layout.
  public let runtime: ParallelRuntime?
  /// Ids that end generation unless ignore_eos.
  let eosTokenIDs: Set<Int32>
  let vocabSize: Int
  /// The most tokens (prompt + output) one sequence can hold: the KV cache (or the Seesaw host buffer) in tokens.
  public let maxTokensPerSequence: Int
  private var requests: [Int: RequestState] = [:]
  private var nextIndex = 0
  /// Totals for reports.
  public private(set) var metrics = EngineMetrics()
  /// Keep a `StepRecord` of every step in `metrics.timeline`.
  public var recordsTimeline = false
  private let createdAt = DispatchTime.now().uptimeNanoseconds

  /// A scheduler with the executor that runs its steps, and the tokens of work queued on it.
  struct Replica {
    let scheduler: Scheduler
    let executor: Executor
    var queuedTokens = 0
  }

  /// A request's bookkeeping between steps.
  final class RequestState {
    let promptTokenIDs: [Int32]
    let params: SamplingParams
    let replica: Int
    var completions: [CompletionOutput]
    var detokenizers: [IncrementalDetokenizer]
    var numFinished = 0

    init(promptTokenIDs: [Int32], params: SamplingParams, replica: Int, tokenizer: Tokenizer?) {
      self.promptTokenIDs = promptTokenIDs
      self.params = params
      self.replica = replica
      completions = (0..<params.n).map {
        CompletionOutput(index: $0, tokenIDs: [], text: "", finishReason: nil, logprobs: [])
      }
      detokenizers =
        tokenizer.map { t in
          (0..<params.n).map { _ in IncrementalDetokenizer(tokenizer: t, skipSpecialTokens: params.skipSpecialTokens) }
        } ?? []
    }
  }

  /// An engine over `executor`, with `numBlocks` KV blocks managed by a continuous-batching scheduler.
  public convenience init(
    executor: Executor, numBlocks: Int, tokenizer: Tokenizer?, eosTokenIDs: Set<Int32>, vocabSize: Int,
    config: EngineConfig = EngineConfig()
  ) throws {
    try self.init(
      replicas: [(ContinuousBatchingScheduler(config: config, numBlocks: numBlocks), executor)], runtime: nil,
      maxTokensPerSequence: numBlocks * config.blockSize, tokenizer: tokenizer, eosTokenIDs: eosTokenIDs,
      vocabSize: vocabSize, config: config)
  }

  /// An engine over a scheduler and an executor per data-parallel replica.
  init(
    replicas: [(Scheduler, Executor)], runtime: ParallelRuntime?, maxTokensPerSequence: Int, tokenizer: Tokenizer?,
    eosTokenIDs: Set<Int32>, vocabSize: Int, config: EngineConfig
  ) throws {
    try config.validate()
    self.config = config
    self.runtime = runtime
    self.tokenizer = tokenizer
    self.eosTokenIDs = eosTokenIDs
    self.vocabSize = vocabSize
    self.maxTokensPerSequence = maxTokensPerSequence
    self.replicas = replicas.map { Replica(scheduler: $0.0, executor: $0.1) }
  }

  /// An engine for `model` on the CPU, with a KV cache sized by `config` (see `EngineConfig.numBlocks`).
  public convenience init(model: LlamaModel, tokenizer: Tokenizer?, config: EngineConfig = EngineConfig()) throws {
    try config.validate()
    let numBlocks = config.numBlocks ?? KVCacheSizing.numBlocks(config: model.config, engine: config)
    let cache = PagedKVCache(
      config: model.config, numBlocks: numBlocks, blockSize: config.blockSize, dtype: config.kvCacheDType)
    try self.init(
      executor: ModelExecutor(model: model, cache: cache), numBlocks: numBlocks, tokenizer: tokenizer,
      eosTokenIDs: Self.eosTokenIDs(model.config, tokenizer), vocabSize: model.config.vocabSize, config: config)
  }

  /// An engine over the ranks of a parallel runtime: one scheduler per replica, the baseline one for a static plan
  /// and Seesaw's transition-minimizing one for a plan with two layouts.
  public convenience init(runtime: ParallelRuntime, tokenizer: Tokenizer?, config: EngineConfig = EngineConfig())
    throws
  {
    let modelConfig = runtime.driverModel.config
    let (blocks, hostBlocks) = (runtime.numBlocks, runtime.numHostBlocks)
    let schedulers: [Scheduler] = runtime.executors.map { _ -> Scheduler in
      runtime.plan.isStatic
        ? ContinuousBatchingScheduler(config: config, numBlocks: blocks)
        : SeesawScheduler(config: config, numBlocks: blocks, numPrefillBlocks: blocks, numHostBlocks: hostBlocks)
    }
    // Under Seesaw a sequence passes through the host buffer whole.
    let maxTokens = (runtime.plan.isStatic ? blocks : min(blocks, hostBlocks)) * config.blockSize
    try self.init(
      replicas: Array(zip(schedulers, runtime.executors.map { $0 as Executor })), runtime: runtime,
      maxTokensPerSequence: maxTokens, tokenizer: tokenizer, eosTokenIDs: Self.eosTokenIDs(modelConfig, tokenizer),
      vocabSize: modelConfig.vocabSize, config: config)
  }

  static func eosTokenIDs(_ config: ModelConfig, _ tokenizer: Tokenizer?) -> Set<Int32> {
    var eos = Set(config.eosTokenIDs.map(Int32.init))
    if let id = tokenizer?.eosTokenID { eos.insert(id) }
    return eos
  }

  public var hasUnfinishedRequests: Bool { replicas.contains { $0.scheduler.hasUnfinished } }

  /// Counters summed over replicas.
  public var schedulerStats: SchedulerStats {
    let all = replicas.map(\.scheduler.stats)
    return all.dropFirst().reduce(all[0]) { $0.merged(with: $1) }
  }

  /// Token ids of a prompt (chat messages through the tokenizer's template, without an extra BOS).
  public func tokenize(_ prompt: Prompt) throws -> [Int32] {
    try Self.tokenize(prompt, tokenizer: tokenizer, id: "\(nextIndex)")
  }

  /// Token ids of a prompt with `tokenizer`, before any engine exists; errors name the request `id`.
  public static func tokenize(_ prompt: Prompt, tokenizer: Tokenizer?, id: String = "") throws -> [Int32] {
    switch prompt {
    case .tokens(let ids): return ids
    case .text(let text):
      guard let tokenizer else {
        throw EngineError.invalidRequest(id: id, reason: "text prompt without a tokenizer")
      }
      return tokenizer.encode(text)
    case .messages(let messages):
      guard let tokenizer, let source = tokenizer.chatTemplate else {
        throw EngineError.invalidRequest(id: id, reason: "chat messages need a tokenizer with a chat template")
      }
      let rendered = try ChatTemplate(source: source).render(
        messages: messages, addGenerationPrompt: true, bosToken: tokenizer.bosToken ?? "",
        eosToken: tokenizer.eosToken ?? "")
      return tokenizer.encode(rendered, addSpecialTokens: false)
    }
  }

  /// Queues a request; returns its index. Throws for invalid params or a prompt that can never fit.
  @discardableResult
  public func addRequest(_ prompt: Prompt, params: SamplingParams) throws -> Int {
    try params.validate()
    let ids = try tokenize(prompt)
    let index = nextIndex
    guard !ids.isEmpty else { throw EngineError.invalidRequest(id: "\(index)", reason: "the prompt is empty") }
    if let bad = ids.first(where: { $0 < 0 || Int($0) >= vocabSize }) {
      throw EngineError.invalidRequest(id: "\(index)", reason: "token id \(bad) outside vocabulary 0..<\(vocabSize)")
    }
    if ids.count + params.maxTokens > maxTokensPerSequence {
      throw EngineError.invalidRequest(
        id: "\(index)",
        reason:
          "prompt (\(ids.count)) + max_tokens (\(params.maxTokens)) exceed the KV cache\(runtime.map { $0.plan.isStatic ? "" : " or the host KV buffer" } ?? "") (\(maxTokensPerSequence) tokens)"
      )
    }
    if !config.enableChunkedPrefill && ids.count + params.maxTokens > config.maxNumBatchedTokens {
      throw EngineError.invalidRequest(
        id: "\(index)",
        reason: "prompt (\(ids.count)) + max_tokens exceed --max-num-batched-tokens without chunked prefill")
    }
    nextIndex += 1
    var stops = Set(params.stopTokenIDs)
    if !params.ignoreEOS { stops.formUnion(eosTokenIDs) }
    let seed = params.seed ?? UInt64.random(in: 0...UInt64.max)
    // The replica with the least queued work (prompt plus the most it may generate).
    let replica = replicas.indices.min { replicas[$0].queuedTokens < replicas[$1].queuedTokens }!
    replicas[replica].queuedTokens += Self.work(promptCount: ids.count, params)
    requests[index] = RequestState(promptTokenIDs: ids, params: params, replica: replica, tokenizer: tokenizer)
    replicas[replica].scheduler.add(
      SchedulerRequest(index: index, promptTokenIDs: ids, params: params, stopTokenIDs: stops, seed: seed))
    return index
  }

  static func work(promptCount: Int, _ params: SamplingParams) -> Int { promptCount + params.n * params.maxTokens }

  /// One engine step; returns the requests that finished in it. Throws when a rank of a parallel run fails.
  public func step() throws -> [RequestOutput] {
    let stepStart = DispatchTime.now().uptimeNanoseconds
    let scheduled = replicas.indices.map { (replica: $0, output: replicas[$0].scheduler.schedule()) }
      .filter { !$0.output.isEmpty }
    let scheduleEnd = DispatchTime.now().uptimeNanoseconds
    guard !scheduled.isEmpty else {
      // Unfinished requests and nothing to run would loop forever: a scheduler bug, reported instead of a hang.
      if hasUnfinishedRequests { throw EngineError.stalled(stats: "\(schedulerStats)") }
      return []
    }
    for s in scheduled { try replicas[s.replica].executor.submit(s.output) }
    var updates: [SequenceUpdate] = []
    var results: [(SchedulerOutput, StepOutput)] = []
    for s in scheduled {
      let result = try replicas[s.replica].executor.collect()
      updates += replicas[s.replica].scheduler.update(result)
      results.append((s.output, result))
    }
    let finished = process(updates)
    let stepEnd = DispatchTime.now().uptimeNanoseconds
    // A simulated step lasts what the cost model says, not what computing the schedule took here.
    let virtual = replicas[0].executor.isVirtual
    metrics.record(
      steps: results, scheduleSeconds: virtual ? 0 : Double(scheduleEnd - stepStart) / 1e9,
      stepSeconds: virtual
        ? results.map { $0.1.forwardSeconds + $0.1.sampleSeconds }.max()! : Double(stepEnd - stepStart) / 1e9,
      start: recordsTimeline ? (virtual ? metrics.stepSeconds : Double(stepStart - createdAt) / 1e9) : nil)
    return finished
  }

  /// Appends new tokens to completions, detokenizes, applies stop strings, and collects finished requests.
  private func process(_ updates: [SequenceUpdate]) -> [RequestOutput] {
    var done: [RequestOutput] = []
    for update in updates {
      guard let request = requests[update.requestIndex] else { continue }
      let k = update.sampleIndex
      request.completions[k].tokenIDs = update.outputTokenIDs
      if let lp = update.logprobs { request.completions[k].logprobs.append(lp) }
      var reason = update.finishReason
      if !request.detokenizers.isEmpty {
        let piece = request.detokenizers[k].append(update.newToken)
        let before = request.completions[k].text.unicodeScalars.count
        request.completions[k].text += piece
        if reason == nil, !request.params.stop.isEmpty,
          request.completions[k].tokenIDs.count >= request.params.minTokens,
          let cut = Self.stopStringCut(request.completions[k].text, request.params.stop, newFrom: before)
        {
          request.completions[k].text = cut
          reason = .stop
          replicas[request.replica].scheduler.finish(sequenceID: update.sequenceID, reason: .stop)
        }
        if reason != nil && request.completions[k].text.unicodeScalars.count == before + piece.unicodeScalars.count {
          request.completions[k].text += request.detokenizers[k].finish()
        }
      }
      if let reason {
        request.completions[k].finishReason = reason
        request.numFinished += 1
        if request.numFinished == request.params.n {
          replicas[request.replica].queuedTokens -= Self.work(promptCount: request.promptTokenIDs.count, request.params)
          done.append(
            RequestOutput(
              index: update.requestIndex, promptTokenIDs: request.promptTokenIDs, outputs: request.completions,
              finished: true))
          requests[update.requestIndex] = nil
        }
      }
    }
    return done
  }

  /// The text up to the first stop string that overlaps the newly added scalars, or nil. A stop string may span
  /// several tokens, so the search starts far enough back to catch one that ends in the new piece.
  static func stopStringCut(_ text: String, _ stops: [String], newFrom: Int) -> String? {
    // Only the tail can hold a new match: the new scalars and as many before them as the longest stop string.
    let longest = stops.map(\.unicodeScalars.count).max() ?? 0
    let tailStart = max(0, newFrom - longest + 1)
    let tail = Array(text.unicodeScalars.dropFirst(tailStart))
    var best: Int? = nil
    for stop in stops {
      let s = Array(stop.unicodeScalars)
      let from = max(0, newFrom - s.count + 1) - tailStart
      guard tail.count >= s.count, from <= tail.count - s.count else { continue }
      for i in from...(tail.count - s.count) where tail[i..<(i + s.count)].elementsEqual(s) {
        if best.map({ i < $0 }) ?? true { best = i }
        break
      }
    }
    return best.map { String(String.UnicodeScalarView(text.unicodeScalars.prefix(tailStart + $0))) }
  }

  /// Bytes of weights one forward pass of a one-process engine reads (0 for a parallel run: see the shards).
  public var modelWeightBytes: Int { (replicas.first?.executor as? ModelExecutor)?.model.weightBytes ?? 0 }

  /// The linear layers' matrices of a one-process engine (none for a parallel run: see the shards).
  public var modelMatrices: [WeightMatrix] { (replicas.first?.executor as? ModelExecutor)?.model.matrices ?? [] }

  /// Ends a parallel run: stops the worker ranks and returns every rank's report (none for one process).
  public func shutdown() throws -> [RankReport] {
    try runtime?.shutdown() ?? []
  }

  /// Runs prompts to completion; outputs in input order.
  public func generate(_ prompts: [Prompt], params: SamplingParams) throws -> [RequestOutput] {
    try generate(prompts, params: Array(repeating: params, count: prompts.count))
  }

  /// Runs prompts to completion with per-prompt params; outputs in input order.
  public func generate(_ prompts: [Prompt], params: [SamplingParams], onStep: ((LLMEngine) -> Void)? = nil) throws
    -> [RequestOutput]
  {
    precondition(prompts.count == params.count, "one SamplingParams per prompt")
    let indices = try zip(prompts, params).map { try addRequest($0, params: $1) }
    var results: [Int: RequestOutput] = [:]
    while hasUnfinishedRequests {
      for output in try step() { results[output.index] = output }
      onStep?(self)
    }
    return indices.map { results[$0]! }
  }

  /// Finished requests as they complete, driving the engine on a background thread; the stream ends with the
  /// error of a failed step.
  public func outputs() -> AsyncThrowingStream<RequestOutput, Error> {
    AsyncThrowingStream { continuation in
      let thread = Thread { [self] in
        do {
          while hasUnfinishedRequests {
            for output in try step() { continuation.yield(output) }
          }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      thread.start()
    }
  }
}
