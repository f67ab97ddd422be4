import Foundation
import SeesawTensor
import Testing

@testable import SeesawModel

/// The forward pass on flat batches that mix prefill chunks and decode tokens of several sequences.
@Suite("Mixed batches")
struct ForwardBatchTests {
  @Test("prefill chunks and decode tokens of different sequences in one batch give each position's logits")
  func mixedPrefillAndDecode() throws {
    let golden = try Fixtures.json("tiny-llama-gqa-tied/golden.json")
    let model = try ModelFiles(path: Fixtures.path("tiny-llama-gqa-tied")).loadModel(blockSize: 4)
    let ids = (golden["input_ids"] as! [Any]).ints  // 12 tokens
    let expected = (golden["logits"] as! [Any]).map { ($0 as! [Any]).floats }  // [12][vocab]
    let scale = expected.joined().map(abs).max()!
    let cache = PagedKVCache(config: model.config, numBlocks: 12, blockSize: 4)
    // Three sequences over the same ids, with scattered blocks.
    let tables: [[Int32]] = [[9, 0, 5], [3, 11, 1], [7, 2, 10]]

    func check(_ logits: Tensor, rows: [(seq: Int, position: Int)]) {
      for (i, row) in rows.enumerated() {
        let got = Array(UnsafeBufferPointer(start: logits.row(i), count: logits.rowLength))
        let worst = zip(got, expected[row.position]).map { abs($0 - $1) }.max()!
        #expect(worst / scale < 1e-4, "sequence \(row.seq) position \(row.position): \(worst)")
      }
    }

    // Step 1: A prefills 7 tokens, B prefills 3.
    let step1 = ForwardBatch(
      chunks: [
        .init(tokens: Array(ids[0..<7]), startPosition: 0, blockTable: tables[0]),
        .init(tokens: Array(ids[0..<3]), startPosition: 0, blockTable: tables[1]),
      ], blockSize: 4, allLogits: true)
    check(model.forward(step1, cache: cache), rows: (0..<7).map { (0, $0) } + (0..<3).map { (1, $0) })

    // Step 2: C prefills all 12, A decodes position 7, B prefills 3..<9: chunk, decode and chunk in one batch.
    let step2 = ForwardBatch(
      chunks: [
        .init(tokens: ids, startPosition: 0, blockTable: tables[2]),
        .init(tokens: [ids[7]], startPosition: 7, blockTable: tables[0]),
        .init(tokens: Array(ids[3..<9]), startPosition: 3, blockTable: tables[1]),
      ], blockSize: 4, allLogits: true)
    check(model.forward(step2, cache: cache), rows: (0..<12).map { (2, $0) } + [(0, 7)] + (3..<9).map { (1, $0) })

    // Step 3: only last-token logits: A at 8, B at 9..<12 (one row: position 11).
    let step3 = ForwardBatch(
      chunks: [
        .init(tokens: [ids[8]], startPosition: 8, blockTable: tables[0]),
        .init(tokens: Array(ids[9..<12]), startPosition: 9, blockTable: tables[1]),
      ], blockSize: 4)
    #expect(step3.logitRows == [0, 3])
    check(model.forward(step3, cache: cache), rows: [(0, 8), (1, 11)])
  }

  @Test("a batch lays out slots from block tables")
  func slots() {
    let batch = ForwardBatch(
      chunks: [.init(tokens: [1, 2, 3], startPosition: 3, blockTable: [5, 2]), .init(tokens: [4], startPosition: 0, blockTable: [7])],
      blockSize: 4)
    #expect(batch.positions == [3, 4, 5, 0])
    #expect(batch.slots == [23, 8, 9, 28])
    #expect(batch.sequences.map(\.tokenStart) == [0, 3] && batch.logitRows == [2, 3])
  }
}
