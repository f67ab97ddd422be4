import Testing

@testable import SeesawEngine

/// The scheduler and block manager driven by hand, with a fake executor's tokens.
@Suite("Continuous-batching scheduler")
struct SchedulerTests {
  static func request(_ index: Int, promptLength: Int, n: Int = 1, maxTokens: Int = 8) -> SchedulerRequest {
    var params = SamplingParams.greedy(maxTokens: maxTokens)
    params.n = n
    return SchedulerRequest(
      index: index, promptTokenIDs: (0..<promptLength).map { Int32($0 % 50) }, params: params, stopTokenIDs: [],
      seed: 1)
  }

  /// Every draw of a step answered with token 7.
  static func answer(_ output: SchedulerOutput) -> StepOutput {
    StepOutput(
      sampled: output.sequences.flatMap { $0.samples.map { .init(sequenceID: $0.sequenceID, token: 7, logprobs: nil) } },
      forwardSeconds: 0, sampleSeconds: 0)
  }

  @Test("n samples share the prompt's blocks and copy only the shared partial block when they write")
  func parallelSamplingSharesBlocks() {
    var config = EngineConfig()
    config.blockSize = 16
    let scheduler = ContinuousBatchingScheduler(config: config, numBlocks: 20)
    scheduler.add(Self.request(0, promptLength: 40, n: 3))  // 40 tokens: blocks of 16, 16, 8
    let prefill = scheduler.schedule()
    #expect(prefill.sequences.count == 1 && prefill.sequences[0].samples.count == 3)
    #expect(scheduler.blockManager.numUsedBlocks == 3)
    let updates = scheduler.update(Self.answer(prefill))
    #expect(updates.count == 3)
    // Three sequences now hold the same three blocks.
    #expect(scheduler.blockManager.numUsedBlocks == 3)
    #expect(prefill.sequences[0].blockTable.allSatisfy { scheduler.blockManager.referenceCount($0) == 3 })
    // Each writes position 40 into the shared, partly filled third block: two copy it, the last keeps it.
    let decode = scheduler.schedule()
    #expect(decode.sequences.count == 3)
    #expect(decode.blockCopies.count == 2)
    #expect(Set(decode.blockCopies.map(\.source)) == [prefill.sequences[0].blockTable[2]])
    #expect(scheduler.blockManager.numUsedBlocks == 5)
    #expect(Set(decode.sequences.map { $0.blockTable[0] }).count == 1)  // full blocks stay shared
    _ = scheduler.update(Self.answer(decode))
  }

  @Test("running out of blocks preempts the newest sequence, which is recomputed with its output later")
  func preemptsNewest() {
    var config = EngineConfig()
    config.blockSize = 4
    let scheduler = ContinuousBatchingScheduler(config: config, numBlocks: 4)
    scheduler.add(Self.request(0, promptLength: 7, maxTokens: 6))  // 2 blocks
    scheduler.add(Self.request(1, promptLength: 7, maxTokens: 6))  // 2 blocks
    var outputs: [Int: [Int32]] = [:]
    var sawPreemption = false
    var steps = 0
    while scheduler.hasUnfinished && steps < 100 {
      let step = scheduler.schedule()
      if !step.preemptedSequenceIDs.isEmpty {
        sawPreemption = true
        #expect(step.preemptedSequenceIDs == [1])  // the newer one
      }
      for u in scheduler.update(Self.answer(step)) where u.finishReason != nil { outputs[u.requestIndex] = u.outputTokenIDs }
      steps += 1
    }
    #expect(sawPreemption)
    #expect(outputs[0] == Array(repeating: 7, count: 6) && outputs[1] == Array(repeating: 7, count: 6))
    #expect(scheduler.blockManager.numUsedBlocks == 0)
  }

  @Test("the token budget caps each step, and prompts are chunked to fit it")
  func tokenBudget() {
    var config = EngineConfig()
    config.maxNumBatchedTokens = 10
    let scheduler = ContinuousBatchingScheduler(config: config, numBlocks: 50)
    scheduler.add(Self.request(0, promptLength: 25))
    scheduler.add(Self.request(1, promptLength: 3))
    let first = scheduler.schedule()
    #expect(first.numBatchedTokens == 10 && first.sequences.count == 1 && first.sequences[0].samples.isEmpty)
    _ = scheduler.update(Self.answer(first))
    let second = scheduler.schedule()
    #expect(second.numBatchedTokens == 10)
    _ = scheduler.update(Self.answer(second))
    let third = scheduler.schedule()  // 5 left of the first prompt, then the whole second prompt
    #expect(third.sequences.map(\.tokenIDs.count) == [5, 3])
    #expect(third.sequences.allSatisfy { !$0.samples.isEmpty })
  }
}
