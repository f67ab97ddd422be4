/// Byte-pair encoding over token ids: a word starts as one symbol per character (or per byte, for byte-level
/// vocabularies) and adjacent pairs are merged lowest rank first, leftmost first among equal ranks, exactly as
/// Hugging Face `tokenizers` merges.
struct BPEModel: Sendable {
  /// Rank and result of merging a pair, keyed by `pairKey(left, right)`.
  struct Merge: Sendable {
    var rank: Int32
    var id: Int32
  }

  let merges: [UInt64: Merge]
  /// Emit a word whole when the vocabulary has it (Llama 3's `ignore_merges`).
  let ignoreMerges: Bool

  init(merges: [UInt64: Merge], ignoreMerges: Bool) {
    self.merges = merges
    self.ignoreMerges = ignoreMerges
  }

  @inline(__always) static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
    UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
  }

  /// Merges `symbols` in place and appends the result to `out`.
  func merge(_ symbols: inout [Int32], into out: inout [Int32]) {
    if symbols.count < 2 {
      out.append(contentsOf: symbols)
      return
    }
    if symbols.count <= 24 {
      mergeByScan(&symbols)
      out.append(contentsOf: symbols)
    } else {
      mergeByHeap(symbols, into: &out)
    }
  }

  /// Short words: repeatedly find the best pair by a linear scan (cheaper than a heap below ~two dozen symbols).
  @inline(__always) func mergeByScan(_ symbols: inout [Int32]) {
    while symbols.count > 1 {
      var bestRank = Int32.max
      var bestIndex = -1
      var bestID: Int32 = 0
      for i in 0..<(symbols.count - 1) {
        if let m = merges[Self.pairKey(symbols[i], symbols[i + 1])], m.rank < bestRank {
          bestRank = m.rank
          bestIndex = i
          bestID = m.id
        }
      }
      if bestIndex < 0 { return }
      symbols[bestIndex] = bestID
      symbols.remove(at: bestIndex + 1)
    }
  }

  /// Long words (SentencePiece-style text without pre-splitting): a binary heap of candidate pairs over a
  /// linked list of symbols, O(n log n).
  func mergeByHeap(_ initial: [Int32], into out: inout [Int32]) {
    var ids = initial
    let n = ids.count
    var next = Array(1...n)  // n means none
    var prev = Array(-1..<(n - 1))
    var heap = MinHeap()
    for i in 0..<(n - 1) {
      if let m = merges[Self.pairKey(ids[i], ids[i + 1])] { heap.push(rank: m.rank, position: Int32(i)) }
    }
    while let top = heap.pop() {
      let i = Int(top.position)
      guard ids[i] >= 0, next[i] < n else { continue }
      let j = next[i]
      guard let m = merges[Self.pairKey(ids[i], ids[j])], m.rank == top.rank else { continue }
      ids[i] = m.id
      ids[j] = -1
      next[i] = next[j]
      if next[j] < n { prev[next[j]] = i }
      if prev[i] >= 0, let left = merges[Self.pairKey(ids[prev[i]], ids[i])] {
        heap.push(rank: left.rank, position: Int32(prev[i]))
      }
      if next[i] < n, let right = merges[Self.pairKey(ids[i], ids[next[i]])] {
        heap.push(rank: right.rank, position: Int32(i))
      }
    }
    var i = 0
    while i < n {
      out.append(ids[i])
      i = next[i]
    }
  }
}

/// A binary min-heap of (rank, position), ordered by rank then position.
struct MinHeap {
  private var items: [UInt64] = []

  mutating func push(rank: Int32, position: Int32) {
    items.append(UInt64(UInt32(rank)) << 32 | UInt64(UInt32(position)))
    var c = items.count - 1
    while c > 0 {
      let p = (c - 1) / 2
      if items[p] <= items[c] { break }
      items.swapAt(p, c)
      c = p
    }
  }

  mutating func pop() -> (rank: Int32, position: Int32)? {
    guard let first = items.first else { return nil }
    let last = items.removeLast()
    if !items.isEmpty {
      items[0] = last
      var p = 0
      while true {
        let l = 2 * p + 1, r = l + 1
        var m = p
        if l < items.count && items[l] < items[m] { m = l }
        if r < items.count && items[r] < items[m] { m = r }
        if m == p { break }
        items.swapAt(p, m)
        p = m
      }
    }
    return (Int32(truncatingIfNeeded: first >> 32), Int32(truncatingIfNeeded: first & 0xFFFF_FFFF))
  }
}
