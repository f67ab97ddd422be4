/// Hands out the KV cache's fixed-size blocks and counts who holds each, so that the n samples of one prompt can
/// share the prompt's blocks (copy-on-write when one of them writes into a shared, partly filled block).
///
///     sequence A: [7, 2, 9]        refcount[7] = 2  (shared prompt block)
///     sequence B: [7, 2, 4]        refcount[2] = 2, refcount[9] = refcount[4] = 1
public final class BlockManager {
  public let numBlocks: Int
  public let blockSize: Int
  private var freeBlocks: [Int32]
  private var refCounts: [Int32]

  public init(numBlocks: Int, blockSize: Int) {
    precondition(numBlocks > 0 && blockSize > 0, "a block manager needs blocks")
    self.numBlocks = numBlocks
    self.blockSize = blockSize
    freeBlocks = (0..<Int32(numBlocks)).reversed()
    refCounts = Array(repeating: 0, count: numBlocks)
  }

  public var numFreeBlocks: Int { freeBlocks.count }
  public var numUsedBlocks: Int { numBlocks - freeBlocks.count }

  /// Blocks a table needs to hold `numTokens` positions.
  public func numBlocks(for numTokens: Int) -> Int { (numTokens + blockSize - 1) / blockSize }

  /// Whether `count` more blocks are free.
  public func canAllocate(_ count: Int) -> Bool { count <= freeBlocks.count }

  /// `count` fresh blocks (reference count 1), or nil when not enough are free.
  public func allocate(_ count: Int) -> [Int32]? {
    guard canAllocate(count) else { return nil }
    var blocks: [Int32] = []
    blocks.reserveCapacity(count)
    for _ in 0..<count {
      let b = freeBlocks.removeLast()
      refCounts[Int(b)] = 1
      blocks.append(b)
    }
    return blocks
  }

  /// Blocks to add (and copies to make) so that `table`, holding `numComputed` positions, can take `numNew` more.
  /// A shared block that would be written is replaced by a private copy.
  public func blocksNeeded(table: [Int32], numComputed: Int, numNew: Int) -> Int {
    let extra = max(0, numBlocks(for: numComputed + numNew) - table.count)
    let writesShared = numNew > 0 && numComputed % blockSize != 0 && numComputed / blockSize < table.count
      && refCounts[Int(table[numComputed / blockSize])] > 1
    return extra + (writesShared ? 1 : 0)
  }

  /// Whether `append` would succeed.
  public func canAppend(table: [Int32], numComputed: Int, numNew: Int) -> Bool {
    canAllocate(blocksNeeded(table: table, numComputed: numComputed, numNew: numNew))
  }

  /// Grows `table` for `numNew` more positions; returns the (source, destination) block copies the executor must
  /// make before writing, or nil when blocks ran out (nothing changed then).
  public func append(table: inout [Int32], numComputed: Int, numNew: Int) -> [BlockCopy]? {
    guard canAppend(table: table, numComputed: numComputed, numNew: numNew) else { return nil }
    var copies: [BlockCopy] = []
    let partial = numComputed / blockSize
    if numNew > 0 && numComputed % blockSize != 0 && partial < table.count && refCounts[Int(table[partial])] > 1 {
      let fresh = allocate(1)![0]
      copies.append(BlockCopy(source: table[partial], destination: fresh))
      refCounts[Int(table[partial])] -= 1
      table[partial] = fresh
    }
    let extra = max(0, numBlocks(for: numComputed + numNew) - table.count)
    table += allocate(extra)!
    return copies
  }

  /// Another holder of the same blocks (the n samples of one prompt).
  public func fork(_ table: [Int32]) -> [Int32] {
    for b in table { refCounts[Int(b)] += 1 }
    return table
  }

  /// Releases a table's hold on its blocks; blocks nobody holds become free.
  public func free(_ table: [Int32]) {
    for b in table.reversed() {
      refCounts[Int(b)] -= 1
      precondition(refCounts[Int(b)] >= 0, "block \(b) freed twice")
      if refCounts[Int(b)] == 0 { freeBlocks.append(b) }
    }
  }

  /// Holders of a block (for tests and reports).
  public func referenceCount(_ block: Int32) -> Int { Int(refCounts[Int(block)]) }
}

/// Copy one block's K/V into another (copy-on-write of a shared block).
public struct BlockCopy: Sendable, Equatable {
  public var source: Int32
  public var destination: Int32
}
