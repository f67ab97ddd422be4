import Foundation

/// Up to 32 queries (`lanes`) that share a KV head: `numTokens` consecutive tokens of one sequence times
/// `numHeads` consecutive query heads of the KV head's group. Lane ℓ is token `ℓ / numHeads`, head `ℓ % numHeads`:
///
///     group 3, prefill:  lane  0  1  2 | 3  4  5 | ... | 27 28 29 | 30 31
///                        token 0  0  0 | 1  1  1 | ... |  9  9  9 | (padding)
///                        head  0  1  2 | 0  1  2 | ... |  0  1  2 |
///
/// A prefill chunk is many tiles of 32 lanes (two vectors); a decode token is a tile of 16 lanes holding one token
/// and its group's heads, or, for the decode kernel, the heads of up to 16 lanes' worth of consecutive KV heads.
struct QueryTile {
  /// Index into the `sequences` of the call.
  var sequence: Int
  /// The (first) KV head.
  var kvHead: Int
  /// Consecutive KV heads from `kvHead` (more than one only for decode tokens through the decode kernel).
  var numKVHeads = 1
  /// Absolute index of the tile's first query head.
  var firstHead: Int
  var numHeads: Int
  /// Batch row of the tile's first token.
  var firstToken: Int
  var numTokens: Int
  /// Key positions the tile reads: the union of its queries' ranges, or one piece of it when split.
  var keyStart: Int
  var keyEnd: Int
  /// Slot in the partial-result buffer when the tile is one piece of a split key range; -1 otherwise.
  var partial = -1

  var numLanes: Int { numTokens * numHeads }

  /// Relative cost: per key the score FMAs of the 16 or 32 lanes, the value FMAs of the used rows, plus a setup.
  var cost: Int { (keyEnd - keyStart) * (((numLanes + 15) & ~15) + ((numLanes + 3) & ~3)) + 256 }
}

/// A tile whose key range was cut into pieces `firstPartial..<firstPartial + numPartials`, merged at the end.
struct SplitTile {
  var tile: QueryTile
  var firstPartial: Int
  var numPartials: Int
}

/// The tiles of one attention call, ordered by sequence and KV head, and their split over `numParts` cores.
struct TilePlan {
  let numParts: Int
  private(set) var tiles: [QueryTile] = []
  private(set) var splits: [SplitTile] = []
  private(set) var numPartials = 0
  /// Tiles of part c: boundaries[c]..<boundaries[c + 1].
  private var boundaries: [Int] = []

  /// Fewest keys in one piece of a split key range (the merge and the setup cost about that much).
  static let minKeysPerPiece = 64

  /// - decodeKVHeads: KV heads per tile of a decode token (`PagedAttention.decodeKVHeads`): the decode kernel reads
  ///   their rows once for all of them.
  init(
    sequences: [AttentionSequence], positions: UnsafePointer<Int32>, shape: AttentionShape, numParts: Int,
    decodeKVHeads: Int = 1
  ) {
    self.numParts = max(1, numParts)
    let group = shape.numHeads / shape.numKVHeads
    let headsPerTile = min(group, 16)
    tiles.reserveCapacity(sequences.count * shape.numKVHeads)  // a decode batch's, without regrowing
    for (s, seq) in sequences.enumerated() where seq.numTokens > 0 {
      if seq.numTokens == 1 && decodeKVHeads > 1 {
        let pos = Int(positions[seq.tokenStart])
        for kvHead in stride(from: 0, to: shape.numKVHeads, by: decodeKVHeads) {
          let numKVHeads = min(decodeKVHeads, shape.numKVHeads - kvHead)
          tiles.append(
            QueryTile(
              sequence: s, kvHead: kvHead, numKVHeads: numKVHeads, firstHead: kvHead * group,
              numHeads: numKVHeads * group, firstToken: seq.tokenStart, numTokens: 1,
              keyStart: PagedAttention.firstKey(pos, window: shape.slidingWindow), keyEnd: pos + 1))
        }
        continue
      }
      // Prefill chunks take 32 lanes, so each key tile serves twice the queries; a decode token fills 16 at most.
      let tokensPerTile = (seq.numTokens * headsPerTile > 16 ? 32 : 16) / headsPerTile
      for kvHead in 0..<shape.numKVHeads {
        for headOffset in stride(from: 0, to: group, by: headsPerTile) {
          for first in stride(from: seq.tokenStart, to: seq.tokenStart + seq.numTokens, by: tokensPerTile) {
            let numTokens = min(tokensPerTile, seq.tokenStart + seq.numTokens - first)
            var keyStart = Int.max, keyEnd = 0
            for t in first..<(first + numTokens) {
              let pos = Int(positions[t])
              keyStart = min(keyStart, PagedAttention.firstKey(pos, window: shape.slidingWindow))
              keyEnd = max(keyEnd, pos + 1)
            }
            tiles.append(
              QueryTile(
                sequence: s, kvHead: kvHead, firstHead: kvHead * group + headOffset,
                numHeads: min(headsPerTile, group - headOffset), firstToken: first, numTokens: numTokens,
                keyStart: keyStart, keyEnd: keyEnd))
          }
        }
      }
    }
    if self.numParts > 1 && tiles.count < 4 * self.numParts { splitLongTiles() }
    balance()
  }

  /// Cuts the key ranges of long tiles into pieces of about 1/(8 · numParts) of the total cost (flash decoding):
  /// a decode batch of one sequence has only numKVHeads tiles, fewer than or unevenly many for the cores.
  private mutating func splitLongTiles() {
    let target = max(1, tiles.reduce(0) { $0 + $1.cost } / (8 * numParts))
    var result: [QueryTile] = []
    result.reserveCapacity(2 * tiles.count + 8 * numParts)  // the pieces, about 8 · numParts, and rounding
    for tile in tiles {
      let keys = tile.keyEnd - tile.keyStart
      var numPieces = min((tile.cost + target - 1) / target, keys / Self.minKeysPerPiece)
      if numPieces > numParts { numPieces -= numPieces % numParts }  // whole rounds of the cores
      guard numPieces > 1 else {
        result.append(tile)
        continue
      }
      splits.append(SplitTile(tile: tile, firstPartial: numPartials, numPartials: numPieces))
      for i in 0..<numPieces {
        var piece = tile
        // Piece boundaries on the multiples of 16 positions nearest, like the kernel's key tiles.
        piece.keyStart = i == 0 ? tile.keyStart : (tile.keyStart + keys * i / numPieces + 8) & ~15
        piece.keyEnd = i == numPieces - 1 ? tile.keyEnd : (tile.keyStart + keys * (i + 1) / numPieces + 8) & ~15
        piece.partial = numPartials
        numPartials += 1
        result.append(piece)
      }
    }
    tiles = result
  }

  /// Contiguous runs of tiles of about equal cost, one per part: tile i goes to the part its cost midpoint falls in.
  private mutating func balance() {
    let total = tiles.reduce(0) { $0 + $1.cost }
    boundaries = [Int](repeating: tiles.count, count: numParts + 1)
    boundaries[0] = 0
    var start = 0, part = 0
    for (i, tile) in tiles.enumerated() {
      let owner = min(numParts - 1, (start + tile.cost / 2) * numParts / max(total, 1))
      while part < owner {
        part += 1
        boundaries[part] = i
      }
      start += tile.cost
    }
  }

  /// Indices of the tiles of `parts`.
  func tiles(inParts parts: Range<Int>) -> Range<Int> {
    boundaries[parts.lowerBound]..<boundaries[parts.upperBound]
  }
}

extension PagedAttention {
  /// First key position a query at `pos` attends to.
  @inline(__always) static func firstKey(_ pos: Int, window: Int?) -> Int {
    window.map { max(0, pos - $0 + 1) } ?? 0
  }
}
