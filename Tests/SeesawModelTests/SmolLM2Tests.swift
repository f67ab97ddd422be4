import Foundation
import Testing

@testable import SeesawModel

/// The real default model (SmolLM2-135M-Instruct, GGUF Q4_1 + Q8_0 embeddings) against transformers' greedy ids.
@Suite("SmolLM2-135M matches transformers", .serialized)
struct SmolLM2Tests {
  static func goldenPrompts() throws -> [(prompt: [Int32], generated: [Int32])] {
    let golden = try Fixtures.json("smollm2-greedy.json")
    return (golden["prompts"] as! [[String: Any]]).map { p in
      ((p["prompt_ids"] as! [Any]).ints, (p["generated_ids"] as! [Any]).ints)
    }
  }

  @Test("greedy ids from the GGUF equal transformers' for every golden prompt, batched together")
  func greedyFromGGUF() throws {
    let goldens = try Self.goldenPrompts()
    #expect(goldens.count >= 4 && goldens.allSatisfy { $0.generated.count >= 32 })
    let model = try ModelFiles(path: Fixtures.smolLM2).loadModel()
    let outputs = greedy(model, prompts: goldens.map(\.prompt), maxTokens: goldens[0].generated.count)
    for (output, golden) in zip(outputs, goldens) {
      #expect(output == golden.generated)
    }
  }

  @Test("first-step logits of the GGUF model agree with transformers' top 5")
  func firstStepTop5() throws {
    let golden = try Fixtures.json("smollm2-greedy.json")
    let first = (golden["prompts"] as! [[String: Any]])[0]
    let model = try ModelFiles(path: Fixtures.smolLM2).loadModel()
    let logits = allLogits(model, (first["prompt_ids"] as! [Any]).ints)
    let last = logits.row(logits.rows - 1)
    for pair in first["first_step_top5"] as! [[Any]] {
      let (id, value) = ((pair[0] as! NSNumber).intValue, (pair[1] as! NSNumber).floatValue)
      #expect(abs(last[id] - value) < 1e-3 * max(1, abs(value)), "token \(id): \(last[id]) vs \(value)")
    }
  }
}

extension SmolLM2Tests {
  @Test("the model converted to a Hugging Face safetensors directory gives the same greedy ids")
  func greedyFromConvertedDirectory() throws {
    let goldens = try Self.goldenPrompts()
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    try HFExport.write(try ModelFiles(path: Fixtures.smolLM2), to: dir.path)
    let files = try ModelFiles(path: dir.path)
    #expect(files.gguf == nil && files.config.numLayers == 30)
    let model = try files.loadModel()
    let outputs = greedy(model, prompts: goldens.map(\.prompt), maxTokens: goldens[0].generated.count)
    for (output, golden) in zip(outputs, goldens) {
      #expect(output == golden.generated)
    }
  }
}
