import CSeesawKernels
import Foundation

/// Pointers and sizes of one attention call, as the tile kernel reads them.
struct TileLayout {
  let q: UnsafePointer<Float>  // [numTokens, numHeads * headDim]
  let positions: UnsafePointer<Int32>  // [numTokens]
  let kCache: UnsafeRawPointer  // [numSlots, numKVHeads * headDim] values of kvDType
  let vCache: UnsafeRawPointer  // [numSlots, numKVHeads * headDim] values of kvDType
  let kvDType: KVCacheDType
  let headDim: Int
  let qDim: Int
  let kvDim: Int
  let blockSize: Int
  let slidingWindow: Int?
  /// 1/√headDim · log₂e: scores come out in the log₂ domain, so the softmax uses exp2.
  let qScale: Float
  /// headDim rounded up to 16: the scratch tiles are zero-padded to whole vectors.
  let paddedDim: Int
  /// Whether decode tokens go through `seesaw_attention_decode` (head dims 64 and 128 on AVX-512 or AVX2).
  let decodeKernel: Bool

  init(
    q: UnsafePointer<Float>, positions: UnsafePointer<Int32>, kCache: UnsafeRawPointer, vCache: UnsafeRawPointer,
    kvDType: KVCacheDType, shape: AttentionShape
  ) {
    self.q = q
    self.positions = positions
    self.kCache = kCache
    self.vCache = vCache
    self.kvDType = kvDType
    headDim = shape.headDim
    qDim = shape.numHeads * shape.headDim
    kvDim = shape.numKVHeads * shape.headDim
    blockSize = shape.blockSize
    slidingWindow = shape.slidingWindow
    qScale = 1 / Float(shape.headDim).squareRoot() * 1.442_695_04
    paddedDim = (shape.headDim + 15) & ~15
    decodeKernel = seesaw_attention_decode_available(shape.headDim) != 0
  }
}

/// One thread's working set for a tile of up to 32 lanes, about 96 · paddedDim floats (24 KiB at headDim 64):
/// nothing grows with the context. Lanes are used in groups of 16 (one vector); a tile has one or two groups.
struct TileScratch {
  let qt: UnsafeMutablePointer<Float>  // [paddedDim / 16, 16 dims, lanes], queries transposed and scaled
  let kTile: UnsafeMutablePointer<Float>  // [paddedDim / 16, 16 keys, 16 dims], the key tile packed
  let vTile: UnsafeMutablePointer<Float>  // [16 keys, paddedDim], the value rows widened from a bf16 cache
  let o: UnsafeMutablePointer<Float>  // [lanes, paddedDim], unnormalised output rows
  let p: UnsafeMutablePointer<Float>  // [16 keys, lanes], scores, then probabilities
  let alpha: UnsafeMutablePointer<Float>  // [lanes], rescale of the accumulator for this key tile
  let m: UnsafeMutablePointer<Float>  // [lanes], running max of the scores (log₂ domain)
  let l: UnsafeMutablePointer<Float>  // [lanes], running sum of 2^(score - m)
  let pos: UnsafeMutablePointer<Float>  // [lanes], position of the lane's token
  let first: UnsafeMutablePointer<Float>  // [lanes], first key position the lane attends to
  let vRows: UnsafeMutablePointer<UnsafePointer<Float>>  // [16], the value row of each key of the tile

  static let maxLanes = 32

  /// `body` with a zeroed scratch for `paddedDim`, in this thread's `ScratchArena`.
  static func with<R>(paddedDim: Int, _ body: (TileScratch) -> R) -> R {
    let lanes = Self.maxLanes
    let numFloats = 2 * lanes * paddedDim + 32 * paddedDim + 16 * lanes + 5 * lanes
    return ScratchArena.with(Float.self, numFloats, UnsafePointer<Float>.self, 16) { floats, vRows in
      floats.initialize(repeating: 0, count: numFloats)
      return body(TileScratch(floats: floats, paddedDim: paddedDim, vRows: vRows))
    }
  }

  private init(floats: UnsafeMutablePointer<Float>, paddedDim: Int, vRows: UnsafeMutablePointer<UnsafePointer<Float>>) {
    let lanes = Self.maxLanes
    qt = floats
    kTile = qt + lanes * paddedDim
    vTile = kTile + 16 * paddedDim
    o = vTile + 16 * paddedDim
    p = o + lanes * paddedDim
    alpha = p + 16 * lanes
    m = alpha + lanes
    l = m + lanes
    pos = l + lanes
    first = pos + lanes
    self.vRows = vRows
  }
}

extension PagedAttention {
  /// Runs one tile over its key range [keyStart, keyEnd) and leaves in `scratch` the unnormalised rows `o`, the
  /// running max `m` (log₂ domain) and the sum `l` of every lane.
  ///
  /// Per key tile of ≤ 16 positions (aligned to multiples of 16):
  ///
  ///     S  [16 keys, lanes] = K-tile · Qᵀ            (lanes are (token, head) queries, 16 or 32)
  ///     mask positions after a lane's token or before its window (only tiles on the diagonal or window edge)
  ///     m' = max(m, max_k S);  P = 2^(S - m');  α = 2^(m - m');  l = α·l + Σ_k P
  ///     O  [lanes, headDim] = α·O + Pᵀ · V-tile
  @inline(__always) static func attend(
    _ tile: QueryTile, table: UnsafePointer<Int32>, layout: TileLayout, scratch: TileScratch
  ) {
    if tile.numTokens == 1 && tile.numHeads / tile.numKVHeads <= decodeKernelMaxHeads && layout.decodeKernel {
      attendDecode(tile, table: table, layout: layout, scratch: scratch)
      return
    }
    let d = layout.headDim
    let dp = layout.paddedDim
    let bs = layout.blockSize
    let numLanes = tile.numLanes
    let numGroups = (numLanes + 15) >> 4
    let lanes = 16 * numGroups
    let numRows = (numLanes + 3) & ~3

    // Queries, transposed and scaled; padding lanes repeat lane 0's position and have zero queries.
    scratch.qt.update(repeating: 0, count: lanes * dp)
    for lane in 0..<lanes {
      let source = lane < numLanes ? lane : 0
      let t = tile.firstToken + source / tile.numHeads
      let pos = Int(layout.positions[t])
      scratch.pos[lane] = Float(pos)
      scratch.first[lane] = Float(firstKey(pos, window: layout.slidingWindow))
      scratch.m[lane] = -.infinity
      scratch.l[lane] = 0
      guard lane < numLanes else { continue }
      let row = layout.q + t * layout.qDim + (tile.firstHead + lane % tile.numHeads) * d
      for i in 0..<d { scratch.qt[(i >> 4) * 16 * lanes + (i & 15) * lanes + lane] = row[i] * layout.qScale }
    }
    var minPos = Int.max
    var maxFirst = 0
    for lane in 0..<lanes {
      minPos = min(minPos, Int(scratch.pos[lane]))
      maxFirst = max(maxFirst, Int(scratch.first[lane]))
    }
    scratch.o.update(repeating: 0, count: numRows * dp)

    var j = tile.keyStart
    var block = j / bs
    var offset = j % bs
    while j < tile.keyEnd {
      let jEnd = min(tile.keyEnd, (j & ~15) + 16)
      let numKeys = jEnd - j
      // Gather the tile's keys (packed) and value rows from their blocks (bf16 ones widened into the scratch).
      for k in 0..<numKeys {
        let row = (Int(table[block]) * bs + offset) * layout.kvDim + tile.kvHead * d
        switch layout.kvDType {
        case .f32:
          packKey(layout.kCache.assumingMemoryBound(to: Float.self) + row, into: scratch.kTile + 16 * k, headDim: d)
          scratch.vRows[k] = layout.vCache.assumingMemoryBound(to: Float.self) + row
        case .bf16:
          packKeyBF16(layout.kCache + 2 * row, into: scratch.kTile + 16 * k, headDim: d)
          KVConvert.loadBF16(layout.vCache + 2 * row, into: scratch.vTile + k * dp, count: d)
          scratch.vRows[k] = UnsafePointer(scratch.vTile + k * dp)
        }
        offset += 1
        if offset == bs {
          offset = 0
          block += 1
        }
      }
      // A decode token's next key tile comes from memory (each block of the table is elsewhere): ask for it now, a
      // key tile of work ahead of its use. Prefill tiles read their keys many times over, from cache (and there
      // the prefetches cost 15% of the attention's time).
      if tile.numTokens == 1 {
        prefetchRows(tile, table: table, layout: layout, keys: jEnd..<min(tile.keyEnd, jEnd + 16))
      }
      switch (numGroups, wideRegisters) {
      case (1, true): scores16(scratch.qt, scratch.kTile, numChunks: dp / 16, into: scratch.p)
      case (_, true): scores32(scratch.qt, scratch.kTile, numChunks: dp / 16, into: scratch.p)
      case (1, false): scores16Narrow(scratch.qt, scratch.kTile, numChunks: dp / 16, into: scratch.p)
      case (_, false): scores32Narrow(scratch.qt, scratch.kTile, numChunks: dp / 16, into: scratch.p)
      }
      let masked = j < maxFirst || jEnd - 1 > minPos
      for g in 0..<numGroups {
        softmaxStep(scratch: scratch, lane: 16 * g, stride: lanes, firstKey: j, numKeys: numKeys, masked: masked)
      }
      accumulateValues(
        scratch: scratch, stride: lanes, numRows: numRows, numKeys: numKeys, headDim: d, wide: wideRegisters)
      j = jEnd
    }
  }

  /// Most query heads per decode tile that `attendDecode` takes. Its cost grows with the heads, the tile kernel's
  /// hardly (16 lanes whatever the group). With AVX2 (Zen 3 host, `seesaw bench attention`, decode at 16 and 64
  /// sequences of 512 positions, 22 layers, alternated runs): K/V at 13.3-15.6 GB/s vs 9.2-12.0 for 1 head per KV
  /// head, 15.9-17.1 vs 10.6-15.7 for 4, 14.0-14.5 vs 12.6-14.3 for 6, but 8.8-13.7 vs 8.0-16.8 (behind in 5 of 6
  /// runs) for 8. With AVX-512, once the kernel's prefetches were spread over its work (attention_rows.h), it is
  /// ahead up to the 16 lanes (Zen 5 host, 22 layers, two threads, ms a layer alternated in one process, tile kernel
  /// then this one: 8 heads a KV head, 64 sequences of 192 positions 1.29-1.35 -> 1.11-1.12, of 512 3.07-3.14 ->
  /// 2.32-2.38, bf16 K/V 0.91-1.19 -> 0.70-0.99; 7 heads 1.13 -> 0.85-0.95 and 2.98 -> 2.38-2.45; 16 heads 0.67 ->
  /// 0.58 and 1.85 -> 1.50; 12 heads even, 1.54 and 1.57; one sequence within noise).
  static let decodeKernelMaxHeads = seesaw_gemm_available() != 0 ? 16 : 6

  /// KV heads per decode token's tile: as many as fill 16 query heads when the decode kernel takes the group, so
  /// that it streams each key's row once (the KV heads' values of a position are one row) instead of once per KV
  /// head, reading the other heads' parts of its cache lines again (`bench attention --layers 4`, SmolLM2's 3 KV
  /// heads, two threads of the Zen 3 host, GB/s of K/V, three runs: 16 sequences of 512 positions 7.2-7.7 -> 8.4-9.9,
  /// 64 of 512 6.3-7.2 -> 8.6-9.0, 64 of 2048 5.6-6.7 -> 6.4-9.0).
  static func decodeKVHeads(_ shape: AttentionShape, decodeKernel: Bool) -> Int {
    let group = shape.numHeads / shape.numKVHeads
    guard decodeKernel && group <= decodeKernelMaxHeads else { return 1 }
    return max(1, min(shape.numKVHeads, 16 / group))
  }

  /// `attend` for a decode token: its heads' queries [numHeads, headDim], scaled, go to the C kernel, which leaves
  /// the same state (o, m, l per head) with the keys in the vector lanes instead of the queries (a decode tile fills
  /// only numHeads of the 16 query lanes; see attention_decode.c).
  @inline(__always) static func attendDecode(
    _ tile: QueryTile, table: UnsafePointer<Int32>, layout: TileLayout, scratch: TileScratch
  ) {
    let d = layout.headDim
    let q = layout.q + tile.firstToken * layout.qDim + tile.firstHead * d  // [numHeads, d], contiguous
    for i in 0..<(tile.numHeads * d) { scratch.qt[i] = q[i] * layout.qScale }
    seesaw_attention_decode(
      scratch.qt, Int32(tile.numHeads), Int32(tile.numKVHeads), d, layout.kCache, layout.vCache,
      layout.kvDType == .bf16 ? 1 : 0, table, layout.blockSize, layout.kvDim, tile.kvHead * d, tile.kvHead == 0 ? 1 : 0,
      tile.keyStart, tile.keyEnd, scratch.o, layout.paddedDim, scratch.m, scratch.l)
  }

  /// Prefetches the rows at positions `keys` into L1: the tile's KV head's part, or the whole rows (all KV heads)
  /// for a tile of KV head 0. The tiles of a sequence's other KV heads run next on the same core and then find
  /// their parts in cache; a whole row is contiguous, which the hardware prefetcher also follows (decode, 64
  /// sequences of 512 positions, SmolLM2's 3 KV heads: 11-12 GB/s of K/V without prefetches, 15-16 with the head's
  /// part, 16-17 with whole rows).
  @inline(__always) static func prefetchRows(
    _ tile: QueryTile, table: UnsafePointer<Int32>, layout: TileLayout, keys: Range<Int>
  ) {
    let bs = layout.blockSize
    let whole = tile.kvHead == 0
    let size = layout.kvDType.byteCount
    let bytes = size * (whole ? layout.kvDim : layout.headDim)
    for j in keys {
      let row = (Int(table[j / bs]) * bs + j % bs) * layout.kvDim + (whole ? 0 : tile.kvHead * layout.headDim)
      let k = layout.kCache + size * row
      let v = layout.vCache + size * row
      for offset in stride(from: 0, to: bytes, by: 64) {
        seesaw_prefetch(k + offset)
        seesaw_prefetch(v + offset)
      }
    }
  }

  /// The online softmax of one group of 16 lanes over a key tile: masks, updates m and l, turns the scores in `p`
  /// into probabilities and leaves the accumulator's rescale in `alpha`. A lane that has seen no key yet keeps
  /// m = -inf; mSafe keeps its exponents at -inf, hence 0.
  @inline(__always) static func softmaxStep(
    scratch: TileScratch, lane: Int, stride: Int, firstKey j: Int, numKeys: Int, masked: Bool
  ) {
    let p = scratch.p + lane
    let posV = load(scratch.pos + lane)
    let firstV = load(scratch.first + lane)
    let m = load(scratch.m + lane)
    var tileMax = SIMD16<Float>(repeating: -.infinity)
    for k in 0..<numKeys {
      var s = load(p + stride * k)
      if masked {
        let key = SIMD16<Float>(repeating: Float(j + k))
        s.replace(with: -.infinity, where: (key .> posV) .| (key .< firstV))
        store(s, p + stride * k)
      }
      tileMax = maximum(tileMax, s)
    }
    let mNew = maximum(m, tileMax)
    let mSafe = mNew.replacing(with: 0, where: mNew .== -.infinity)
    let alpha = VectorMath.exp2(m - mSafe)
    var sum = SIMD16<Float>()
    for k in 0..<numKeys {
      let e = VectorMath.exp2(load(p + stride * k) - mSafe)
      store(e, p + stride * k)
      sum += e
    }
    store(sum.addingProduct(load(scratch.l + lane), alpha), scratch.l + lane)
    store(mNew, scratch.m + lane)
    store(alpha, scratch.alpha + lane)
  }

  /// out rows of the tile's lanes = o / l.
  @inline(__always) static func writeOutput(
    _ tile: QueryTile, layout: TileLayout, scratch: TileScratch, out: UnsafeMutablePointer<Float>
  ) {
    let d = layout.headDim
    for lane in 0..<tile.numLanes {
      let t = tile.firstToken + lane / tile.numHeads
      let h = tile.firstHead + lane % tile.numHeads
      scale(scratch.o + lane * layout.paddedDim, by: 1 / scratch.l[lane], into: out + t * layout.qDim + h * d, count: d)
    }
  }

  /// Floats of one piece's state for `mergePartials`: m [32], l [32], o [32, paddedDim].
  static func partialStride(paddedDim: Int) -> Int { 2 * TileScratch.maxLanes + TileScratch.maxLanes * paddedDim }

  /// Stores a piece's state for `mergePartials`.
  @inline(__always) static func savePartial(
    _ tile: QueryTile, layout: TileLayout, scratch: TileScratch, to partial: UnsafeMutablePointer<Float>
  ) {
    let lanes = TileScratch.maxLanes
    partial.update(from: scratch.m, count: tile.numLanes)
    (partial + lanes).update(from: scratch.l, count: tile.numLanes)
    (partial + 2 * lanes).update(from: scratch.o, count: tile.numLanes * layout.paddedDim)
  }

  /// Combines the pieces of a split tile: out = Σ_s 2^(m_s - M) o_s / Σ_s 2^(m_s - M) l_s with M = max_s m_s.
  static func mergePartials(
    _ split: SplitTile, layout: TileLayout, partials: UnsafePointer<Float>, stride: Int,
    out: UnsafeMutablePointer<Float>
  ) {
    let d = layout.headDim
    let tile = split.tile
    let pieces = partials + split.firstPartial * stride
    for lane in 0..<tile.numLanes {
      var maxM = -Float.infinity
      for s in 0..<split.numPartials { maxM = max(maxM, pieces[s * stride + lane]) }
      let t = tile.firstToken + lane / tile.numHeads
      let h = tile.firstHead + lane % tile.numHeads
      let dst = out + t * layout.qDim + h * d
      dst.update(repeating: 0, count: d)
      var total: Float = 0
      for s in 0..<split.numPartials {
        let piece = pieces + s * stride
        // A piece that saw no key of this lane (a sliding window edge) has m = -inf and weight 0.
        let w = piece[lane] == -.infinity ? 0 : exp2f(piece[lane] - maxM)
        total += w * piece[TileScratch.maxLanes + lane]
        let o = piece + 2 * TileScratch.maxLanes + lane * layout.paddedDim
        for i in 0..<d { dst[i] += w * o[i] }
      }
      let inv = 1 / total
      for i in 0..<d { dst[i] *= inv }
    }
  }
}
