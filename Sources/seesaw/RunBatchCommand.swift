import ArgumentParser
import Foundation
import SeesawBatch
import SeesawEngine
import SeesawModel
import SeesawTokenizer

/// `seesaw run-batch`: an OpenAI Batch API file through the engine, like `vllm run-batch`.
struct RunBatchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run-batch",
    abstract: "Run an OpenAI Batch API file (/v1/completions and /v1/chat/completions lines).",
    discussion: """
      Input lines: {"custom_id", "method": "POST", "url": "/v1/completions" | "/v1/chat/completions", "body"}.
      Output lines (input order): {"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"};
      a bad line gets an error line naming what is wrong. Unknown body fields are ignored; body "model" is not
      checked (responses name the served model). Duplicate custom_ids: the first line runs, later ones get errors.
      An existing -o file is resumed: its complete lines are kept, a torn last line is cut, and only unanswered
      lines run (appended in input order). --overwrite starts over.
      """)

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var tokenizerOptions: TokenizerOptions
  @OptionGroup var engineOptions: EngineOptions
  @OptionGroup var parallelOptions: ParallelOptions

  @Option(name: .shortAndLong, help: "The batch file (JSONL); - for stdin.")
  var input: String

  @Option(name: .shortAndLong, help: "Where to write results (JSONL); - for stdout. An existing file is resumed.")
  var output: String

  @Flag(help: "Empty an existing output file instead of resuming it.")
  var overwrite = false

  @Option(name: .customLong("served-model-name"), help: "The model name responses carry (default: the model file's).")
  var servedModelName: String?

  func run() throws {
    do {
      // --plan auto simulates the batch's requests, so the input is read before the engine exists (by every rank
      // under mpirun: a file then, not stdin).
      var lines: [(number: Int, data: Data)]?
      if parallelOptions.planMode != nil && input == "-" && MPIWorld.isLaunched {
        throw ValidationError("--plan auto under mpirun needs the batch as a file (-i FILE), not stdin")
      }
      guard
        let (modelPath, files, tokenizer, engine) = try parallelOptions.loadEngine(
          model: modelOptions, tokenizer: tokenizerOptions, engine: engineOptions,
          requests: parallelOptions.planMode == nil
            ? nil
            : { files, tokenizer in
              let read = try BatchRun.readLines(input)
              lines = read
              return BatchRun.lengths(
                BatchRun.parse(read), tokenizer: tokenizer, maxContext: files.config.maxPositionEmbeddings)
            })
      else { return }  // an MPI worker rank: it served until the driver shut the run down; only rank 0 reads files
      let model = servedModelName ?? URL(fileURLWithPath: modelPath).deletingPathExtension().lastPathComponent
      let summary = try BatchRun(
        engine: engine, tokenizer: tokenizer, model: model, maxContext: files.config.maxPositionEmbeddings
      ).run(input: input, lines: lines, output: output, overwrite: overwrite)
      FileHandle.standardError.write(Data("seesaw: run-batch: \(summary)\n".utf8))
      _ = try parallelOptions.shutDown(engine)
    } catch {
      fail(error)
    }
  }
}

/// One run of a batch file on an engine: parse, resume, queue, step, write in order.
final class BatchRun {
  let engine: LLMEngine
  let tokenizer: Tokenizer
  let model: String
  let maxContext: Int

  /// What a run did, for the closing line on stderr.
  struct Summary: CustomStringConvertible {
    var numLines = 0, numOK = 0, numFailed = 0, numSkipped = 0
    var numPromptTokens = 0, numCompletionTokens = 0
    var seconds = 0.0

    var description: String {
      let s = max(seconds, 1e-9)
      return String(
        format: "%d lines: %d ok, %d failed, %d skipped (answered before); %d prompt + %d completion tokens in "
          + "%.1f s (%.0f tok/s, %.0f completion tok/s, %.1f lines/s)", numLines, numOK, numFailed, numSkipped,
        numPromptTokens, numCompletionTokens, seconds, Double(numPromptTokens + numCompletionTokens) / s,
        Double(numCompletionTokens) / s, Double(numOK + numFailed) / s)
    }
  }

  /// A line in flight: its request and the outputs of its prompts as they finish.
  private struct InFlight {
    /// Its place among the lines this run writes.
    var slot: Int
    var request: BatchRequest
    var outputs: [RequestOutput?]
    var failed = false
  }

  private var summary = Summary()
  private var inFlight: [Int: InFlight] = [:]  // by input line
  private var requestToLine: [Int: (line: Int, part: Int)] = [:]

  init(engine: LLMEngine, tokenizer: Tokenizer, model: String, maxContext: Int) {
    self.engine = engine
    self.tokenizer = tokenizer
    self.model = model
    self.maxContext = maxContext
  }

  /// Runs the batch `input` (its `lines` when already read) into `output`.
  func run(input: String, lines: [(number: Int, data: Data)]? = nil, output: String, overwrite: Bool) throws
    -> Summary
  {
    let lines = try lines ?? Self.readLines(input)
    let requests = Self.parse(lines)
    summary = Summary(numLines: lines.count)
    let answered = try Self.resume(
      output: output, overwrite: overwrite, keys: requests.map { (try? $0.get())?.customID ?? $0.error?.customID })
    let writer = try OutputWriter(path: output, append: !overwrite)
    warnAboutModels(requests)

    let start = Date()
    var slot = 0
    for (line, parsed) in requests.enumerated() {
      if answered[line] {
        summary.numSkipped += 1
        continue
      }
      do {
        try queue(try parsed.get(), line: line, slot: slot)
      } catch {
        inFlight[line]?.failed = true
        let customID = (try? parsed.get())?.customID
        writer.write(
          line: slot,
          data: BatchOutput.encode(BatchOutput.failure(Self.batchError(error, customID), line: lines[line].number)))
        summary.numFailed += 1
      }
      slot += 1
    }
    try writer.flush()

    let progress = ProgressReporter(total: lines.count)
    while engine.hasUnfinishedRequests {
      for result in try engine.step() {
        guard let (slot, object) = collect(result) else { continue }
        writer.write(line: slot, data: BatchOutput.encode(object))
      }
      try writer.flush()
      progress.update(done: summary.numSkipped + summary.numOK + summary.numFailed, engine: engine)
    }
    progress.finish(engine: engine)
    try writer.close()
    summary.seconds = Date().timeIntervalSince(start)
    return summary
  }

  /// Queues every prompt of a line, after checking all of them (so that a bad one leaves nothing running, unless
  /// the engine refuses a later one: then the earlier ones run and their outputs are dropped).
  private func queue(_ request: BatchRequest, line: Int, slot: Int) throws {
    let queued = try request.prompts.map { prompt -> ([Int32], SamplingParams) in
      let ids = try engine.tokenize(prompt)
      let params = try request.params(
        promptLength: ids.count, maxContext: maxContext, maxSequenceTokens: engine.maxTokensPerSequence)
      return (ids, params)
    }
    inFlight[line] = InFlight(slot: slot, request: request, outputs: Array(repeating: nil, count: queued.count))
    for (part, (ids, params)) in queued.enumerated() {
      requestToLine[try engine.addRequest(.tokens(ids), params: params)] = (line, part)
    }
  }

  /// Records a finished prompt; returns the slot and output line of its request once all its prompts are done.
  private func collect(_ result: RequestOutput) -> (Int, [String: Any])? {
    guard let (line, part) = requestToLine.removeValue(forKey: result.index) else { return nil }
    inFlight[line]!.outputs[part] = result
    let state = inFlight[line]!
    guard !state.failed, state.outputs.allSatisfy({ $0 != nil }) else { return nil }
    inFlight[line] = nil
    let outputs = state.outputs.map { $0! }
    summary.numOK += 1
    summary.numPromptTokens += outputs.reduce(0) { $0 + $1.promptTokenIDs.count }
    summary.numCompletionTokens += outputs.reduce(0) { $0 + $1.outputs.reduce(0) { $0 + $1.tokenIDs.count } }
    let object = BatchOutput.success(
      state.request, outputs: outputs, model: model, created: Int(Date().timeIntervalSince1970),
      tokenText: { [tokenizer] in tokenizer.decode([$0]) })
    return (state.slot, object)
  }

  /// Non-blank lines with their 0-based line numbers (blank lines are skipped, as vLLM skips them).
  static func readLines(_ path: String) throws -> [(number: Int, data: Data)] {
    let data: Data
    if path == "-" {
      data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
      guard let d = FileManager.default.contents(atPath: path) else {
        throw ValidationError("--input \(path): no such file or not readable")
      }
      data = d
    }
    let blank: Set<UInt8> = [0x20, 0x09, 0x0D]
    return data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
      .filter { !$0.element.allSatisfy(blank.contains) }.map { ($0.offset, Data($0.element)) }
  }

  /// (prompt tokens, most tokens generated) of every prompt of the valid lines, for the planner of `--plan auto`.
  static func lengths(_ requests: [Result<BatchRequest, BatchError>], tokenizer: Tokenizer, maxContext: Int)
    -> [(input: Int, output: Int)]
  {
    requests.flatMap { parsed -> [(input: Int, output: Int)] in
      guard let request = try? parsed.get() else { return [] }
      return request.prompts.compactMap { prompt in
        guard let ids = try? LLMEngine.tokenize(prompt, tokenizer: tokenizer),
          let params = try? request.params(promptLength: ids.count, maxContext: maxContext)
        else { return nil }
        return (ids.count, params.n * params.maxTokens)
      }
    }
  }

  /// Every line parsed; a custom_id seen on an earlier line makes later lines with it duplicate-id errors.
  static func parse(_ lines: [(number: Int, data: Data)]) -> [Result<BatchRequest, BatchError>] {
    var firstLine: [String: Int] = [:]
    return lines.map { number, line in
      let parsed = Result { () throws(BatchError) in try BatchRequest.parse(line: line) }
      guard let id = (try? parsed.get())?.customID ?? parsed.error?.customID else { return parsed }
      if let first = firstLine[id] {
        return .failure(
          BatchError(.duplicateCustomID, "custom_id '\(id)' is already used by line \(first + 1)", customID: id))
      }
      firstLine[id] = number
      return parsed
    }
  }

  /// Reads an existing output file for resuming (cutting a torn tail, dropping lines of no input line) and returns
  /// which input lines it answers; nothing is answered for stdout or with `overwrite`.
  static func resume(output: String, overwrite: Bool, keys: [String?]) throws -> [Bool] {
    let none = Array(repeating: false, count: keys.count)
    guard output != "-", !overwrite, let existing = FileManager.default.contents(atPath: output) else { return none }
    let resume = BatchResume(existing: existing, keys: keys)
    if resume.isPrefix {
      if resume.kept.count < existing.count {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        try handle.truncate(atOffset: UInt64(resume.kept.count))
        try handle.synchronize()
        try handle.close()
      }
    } else {
      try resume.kept.write(to: URL(fileURLWithPath: output), options: .atomic)
    }
    var notes: [String] = ["\(resume.numKept) lines answered already"]
    if resume.tornTail { notes.append("a torn last line cut") }
    if resume.numDropped > 0 { notes.append("\(resume.numDropped) lines of no input line dropped") }
    FileHandle.standardError.write(
      Data("seesaw: run-batch: resuming \(output): \(notes.joined(separator: ", "))\n".utf8))
    return resume.answered
  }

  /// A line's failure as a `BatchError` with its custom_id (the engine's refusals become `invalid_request`).
  static func batchError(_ error: Error, _ customID: String?) -> BatchError {
    if var e = error as? BatchError {
      e.customID = e.customID ?? customID
      return e
    }
    let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
    return BatchError(.invalidRequest, message, customID: customID)
  }

  /// One line on stderr naming the body `model` values that are not the served model (they are ignored).
  func warnAboutModels(_ requests: [Result<BatchRequest, BatchError>]) {
    let others = Set(requests.compactMap { (try? $0.get())?.model }).subtracting([model]).sorted()
    guard !others.isEmpty else { return }
    let names = others.prefix(5).joined(separator: ", ")
    FileHandle.standardError.write(
      Data("seesaw: run-batch: body \"model\" \(names) ignored; \(model) serves every line\n".utf8))
  }
}

extension Result {
  var error: Failure? {
    if case .failure(let e) = self { return e }
    return nil
  }
}
