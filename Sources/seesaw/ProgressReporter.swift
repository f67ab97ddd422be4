import Foundation
import SeesawEngine

/// Progress on stderr: a bar redrawn in place on a terminal, a plain line every few seconds otherwise.
final class ProgressReporter {
  let total: Int
  let isTerminal = isatty(STDERR_FILENO) != 0
  let start = Date()
  private var lastPrint = Date.distantPast
  private var done = 0

  init(total: Int) { self.total = total }

  func update(done: Int, engine: LLMEngine, force: Bool = false) {
    self.done = done
    let now = Date()
    guard force || now.timeIntervalSince(lastPrint) >= (isTerminal ? 0.2 : 5) else { return }
    lastPrint = now
    let m = engine.metrics
    let s = engine.schedulerStats
    let elapsed = max(now.timeIntervalSince(start), 1e-9)
    let tokensPerSecond = Double(m.numPromptTokens + m.numDecodeTokens) / elapsed
    let kv = s.numBlocks > 0 ? 100 * Double(s.numUsedBlocks) / Double(s.numBlocks) : 0
    var text = String(
      format: "%d/%d requests, %.0f tok/s (%.0f out), KV %.0f%%, %d running, %d waiting, %d preemptions", done, total,
      tokensPerSecond, Double(m.numDecodeTokens) / elapsed, kv, s.numRunning, s.numWaiting, s.numPreemptions)
    if let seesaw = s.seesaw {
      text += String(
        format: ", %@ phase, %d transitions, host KV %.0f%% (%d buffered), %d evictions", seesaw.phase.description,
        seesaw.numTransitions, 100 * Double(seesaw.numUsedHostBlocks) / Double(max(seesaw.numHostBlocks, 1)),
        seesaw.numBuffered, seesaw.numEvictions)
    }
    if isTerminal {
      let width = 24
      let filled = total > 0 ? width * done / total : width
      let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
      FileHandle.standardError.write(Data("\r[\(bar)] \(text)\u{1B}[K".utf8))
    } else {
      FileHandle.standardError.write(Data("progress: \(text)\n".utf8))
    }
  }

  func finish(engine: LLMEngine) {
    update(done: done, engine: engine, force: true)
    if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
  }
}
