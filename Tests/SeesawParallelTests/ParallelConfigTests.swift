import Testing

@testable import SeesawParallel

@Suite("Parallel layouts")
struct ParallelConfigTests {
  @Test("compact forms parse in any order and print back")
  func compactForms() throws {
    #expect(try ParallelConfig(parsing: "tp2pp2") == ParallelConfig(tp: 2, pp: 2))
    #expect(try ParallelConfig(parsing: "pp4dp2") == ParallelConfig(dp: 2, pp: 4))
    #expect(try ParallelConfig(parsing: "TP4") == ParallelConfig(tp: 4))
    #expect(try ParallelConfig(parsing: "single").isSingle)
    #expect(ParallelConfig(dp: 2, tp: 1, pp: 4).description == "dp2pp4")
    #expect(ParallelConfig().description == "tp1")
    for bad in ["", "tp", "tp2tp2", "xp2", "tp2 pp2", "tp0", "dp-1"] {
      #expect(throws: ParallelConfigError.self, "\(bad)") { try ParallelConfig(parsing: bad) }
    }
  }

  @Test("ranks are numbered tp fastest, then stage, then replica")
  func rankOrder() {
    let c = ParallelConfig(dp: 2, tp: 2, pp: 2)
    #expect(c.worldSize == 8)
    #expect(c.coordinates(of: 3) == RankCoordinates(replica: 0, stage: 1, tpRank: 1))
    #expect(c.coordinates(of: 4) == RankCoordinates(replica: 1, stage: 0, tpRank: 0))
    for r in 0..<8 { #expect(c.rank(of: c.coordinates(of: r)) == r) }
  }

  @Test("partitions are contiguous, as even as possible, and aligned to the unit")
  func partitions() {
    #expect(Partition.even(10, parts: 3) == [0..<4, 4..<7, 7..<10])
    #expect(Partition.even(1536, parts: 4, unit: 32) == [0..<384, 384..<768, 768..<1152, 1152..<1536])
    #expect(Partition.even(30, parts: 4) == [0..<8, 8..<16, 16..<23, 23..<30])
    #expect(Partition.even(100, parts: 3, unit: 32) == [0..<32, 32..<64, 64..<100])
    #expect(Partition.even(3, parts: 4) == nil)
  }
}
