import Dispatch
import Foundation
import SeesawModel
import SeesawTensor
import SeesawTokenizer

/// The offline engine: requests in, completions out, one step at a time.
///
///     step():  scheduler.schedule()  ->  executor.execute(output)  ->  scheduler.update(stepOutput)
///              then detokenize, check stop strings, and hand back the requests that finished
public final class LLMEngine {
  public let config: EngineConfig
  public let tokenizer: Tokenizer?
  let scheduler: Scheduler
  let executor: Executor
  /// Ids that end generation unless ignore_eos.
  let eosTokenIDs: Set<Int32>
  let vocabSize: Int
  let maxTokensPerSequence: Int
  private var requests: [Int: RequestState] = [:]
  private var nextIndex = 0
  /// Totals for reports.
  public private(set) var metrics = EngineMetrics()

  /// A request's bookkeeping between steps.
  final class RequestState {
    let promptTokenIDs: [Int32]
    let params: SamplingParams
    var completions: [CompletionOutput]
    var detokenizers: [IncrementalDetokenizer]
    var numFinished = 0

    init(promptTokenIDs: [Int32], params: SamplingParams, tokenizer: Tokenizer?) {
      self.promptTokenIDs = promptTokenIDs
      self.params = params
      completions = (0..<params.n).map {
        CompletionOutput(index: $0, tokenIDs: [], text: "", finishReason: nil, logprobs: [])
      }
      detokenizers = tokenizer.map { t in
        (0..<params.n).map { _ in IncrementalDetokenizer(tokenizer: t, skipSpecialTokens: params.skipSpecialTokens) }
      } ?? []
    }
  }

  /// An engine over `executor`, with `numBlocks` KV blocks managed by a continuous-batching scheduler.
  public init(
    executor: Executor, numBlocks: Int, tokenizer: Tokenizer?, eosTokenIDs: Set<Int32>, vocabSize: Int,
    config: EngineConfig = EngineConfig()
  ) throws {
    try config.validate()
    self.config = config
    self.executor = executor
    self.tokenizer = tokenizer
    self.eosTokenIDs = eosTokenIDs
    self.vocabSize = vocabSize
    maxTokensPerSequence = numBlocks * config.blockSize
    scheduler = ContinuousBatchingScheduler(config: config, numBlocks: numBlocks)
  }

  /// An engine for `model` on the CPU, with a KV cache sized by `config` (see `EngineConfig.numBlocks`).
  public convenience init(model: LlamaModel, tokenizer: Tokenizer?, config: EngineConfig = EngineConfig()) throws {
    try config.validate()
    let numBlocks = config.numBlocks ?? KVCacheSizing.numBlocks(config: model.config, engine: config)
    let cache = PagedKVCache(config: model.config, numBlocks: numBlocks, blockSize: config.blockSize)
    var eos = Set(model.config.eosTokenIDs.map(Int32.init))
    if let id = tokenizer?.eosTokenID { eos.insert(id) }
    try self.init(
      executor: ModelExecutor(model: model, cache: cache), numBlocks: numBlocks, tokenizer: tokenizer,
      eosTokenIDs: eos, vocabSize: model.config.vocabSize, config: config)
  }

  public var hasUnfinishedRequests: Bool { scheduler.hasUnfinished }
  public var schedulerStats: SchedulerStats { scheduler.stats }

  /// Token ids of a prompt (chat messages through the tokenizer's template, without an extra BOS).
  public func tokenize(_ prompt: Prompt) throws -> [Int32] {
    switch prompt {
    case .tokens(let ids): return ids
    case .text(let text):
      guard let tokenizer else { throw EngineError.invalidRequest(id: "\(nextIndex)", reason: "text prompt without a tokenizer") }
      return tokenizer.encode(text)
    case .messages(let messages):
      guard let tokenizer, let source = tokenizer.chatTemplate else {
        throw EngineError.invalidRequest(id: "\(nextIndex)", reason: "chat messages need a tokenizer with a chat template")
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
        reason: "prompt (\(ids.count)) + max_tokens (\(params.maxTokens)) exceed the KV cache (\(maxTokensPerSequence) tokens)")
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
    requests[index] = RequestState(promptTokenIDs: ids, params: params, tokenizer: tokenizer)
    scheduler.add(
      SchedulerRequest(index: index, promptTokenIDs: ids, params: params, stopTokenIDs: stops, seed: seed))
    return index
  }

  /// One engine step; returns the requests that finished in it.
  public func step() -> [RequestOutput] {
    let stepStart = DispatchTime.now().uptimeNanoseconds
    let scheduled = scheduler.schedule()
    let scheduleEnd = DispatchTime.now().uptimeNanoseconds
    guard !scheduled.isEmpty else { return [] }
    let result = executor.execute(scheduled)
    let updates = scheduler.update(result)
    let finished = process(updates)
    let stepEnd = DispatchTime.now().uptimeNanoseconds
    metrics.record(
      scheduled: scheduled, result: result, scheduleSeconds: Double(scheduleEnd - stepStart) / 1e9,
      stepSeconds: Double(stepEnd - stepStart) / 1e9)
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
        if reason == nil, !request.params.stop.isEmpty, request.completions[k].tokenIDs.count >= request.params.minTokens,
          let cut = Self.stopStringCut(request.completions[k].text, request.params.stop, newFrom: before)
        {
          request.completions[k].text = cut
          reason = .stop
          scheduler.finish(sequenceID: update.sequenceID, reason: .stop)
        }
        if reason != nil && request.completions[k].text.unicodeScalars.count == before + piece.unicodeScalars.count {
          request.completions[k].text += request.detokenizers[k].finish()
        }
      }
      if let reason {
        request.completions[k].finishReason = reason
        request.numFinished += 1
        if request.numFinished == request.params.n {
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
      for output in step() { results[output.index] = output }
      onStep?(self)
    }
    return indices.map { results[$0]! }
  }

  /// Finished requests as they complete, driving the engine on a background thread.
  public func outputs() -> AsyncStream<RequestOutput> {
    AsyncStream { continuation in
      let thread = Thread { [self] in
        while hasUnfinishedRequests {
          for output in step() { continuation.yield(output) }
        }
        continuation.finish()
      }
      thread.start()
    }
  }
}
