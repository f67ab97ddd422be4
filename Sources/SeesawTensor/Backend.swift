/// The operations a model's forward pass needs, on whole tensors.
///
/// The model calls only these, so a faster CPU path or an accelerator backend replaces the kernels without touching
/// the layers. Shapes are given per method; all tensors are f32 and row-major.
public protocol Backend: AnyObject, Sendable {
  /// y [M, N] = x [M, K] · w [N, K]ᵀ (+ bias [N]), the weights in their stored form.
  func linear(_ x: Tensor, _ w: WeightMatrix, bias: Tensor?, into y: Tensor)
  /// ys[i] [M, N_i] = x [M, K] · ws[i]ᵀ (+ biases[i]): products that share their input (q/k/v, gate/up), which a
  /// backend may run as one pass over all their weights.
  func linear(_ x: Tensor, _ ws: [WeightMatrix], biases: [Tensor?], into ys: [Tensor])
  /// y [M, D] = rmsnorm(x [M, D]) * weight [D]; y may be x.
  func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float, into y: Tensor)
  /// x [T, H, D] rotated in place with cos/sin [T, D/2].
  func rope(_ x: Tensor, numHeads: Int, cos: Tensor, sin: Tensor)
  /// gate [M, I] = silu(gate) * up [M, I].
  func siluMul(_ gate: Tensor, _ up: Tensor)
  /// x += y (same shape).
  func add(_ x: Tensor, _ y: Tensor)
  /// x [M, D] += delta [M, D], then y [M, D] = rmsnorm(x) * weight [D]: a residual update and the next norm.
  func addRMSNorm(_ x: Tensor, _ delta: Tensor, weight: Tensor, eps: Float, into y: Tensor)
  /// out [T, D] = table [V, D] rows at `ids`.
  func embed(_ ids: [Int32], table: WeightMatrix, into out: Tensor)
  /// Writes k, v [T, Hkv*D] to their slots of one layer's cache [numSlots, Hkv*D], in the cache's dtype.
  func writeKV(k: Tensor, v: Tensor, slots: [Int32], cache: KVCacheLayer)
  /// out [T, H*D] = causal paged attention of q [T, H*D] over one layer's cache.
  func attention(
    q: Tensor, positions: [Int32], sequences: [AttentionSequence], cache: KVCacheLayer, shape: AttentionShape,
    into out: Tensor)

  /// Makes a shard's weights ready to compute with, at a layout switch (an accelerator copies them to the device
  /// here); `release` gives back the leaving shard's. The host CPU makes the copies its kernels read, in huge pages.
  func materialize(_ weights: [WeightMatrix])
  func release(_ weights: [WeightMatrix])
}

extension Backend {
  public func linear(_ x: Tensor, _ ws: [WeightMatrix], biases: [Tensor?], into ys: [Tensor]) {
    for i in ws.indices { linear(x, ws[i], bias: biases[i], into: ys[i]) }
  }

  public func addRMSNorm(_ x: Tensor, _ delta: Tensor, weight: Tensor, eps: Float, into y: Tensor) {
    add(x, delta)
    rmsNorm(x, weight: weight, eps: eps, into: y)
  }

  public func materialize(_ weights: [WeightMatrix]) {}
  public func release(_ weights: [WeightMatrix]) {}
}

/// The host CPU: OpenBLAS for large products, Swift SIMD kernels for the rest.
public final class CPUBackend: Backend {
  /// The GEMM implementation of `linear` (see `Matmul` for the measurements behind the default).
  public let linearKernel: Matmul.Kernel
  /// Arithmetic of the linear layers (`.f32` unless the user opts in to a faster, less exact one).
  public let precision: ComputePrecision

  public init(linearKernel: Matmul.Kernel = .simd, precision: ComputePrecision = .f32) {
    self.linearKernel = linearKernel
    self.precision = precision
  }

  public func linear(_ x: Tensor, _ w: WeightMatrix, bias: Tensor?, into y: Tensor) {
    let (m, w) = (x.rows, w.streamed())
    precondition(
      w.cols == x.rowLength && y.count == m * w.rows, "linear shapes x\(x.shape) w[\(w.rows), \(w.cols)] y\(y.shape)")
    let bias = bias.map { UnsafePointer($0.data) }
    if precision == .f32 {
      Matmul.linear(x.data, w, y.data, m: m, bias: bias, kernel: linearKernel)
    } else {
      Matmul.linear(x.data, w, y.data, m: m, bias: bias, precision: precision)
    }
  }

  /// Products that share x run as one pass (one split over the cores instead of one per matrix): under `.int8`, x
  /// quantized once; in f32 whenever all the matrices take the same path (`Matmul.sharedPath`; on the `.rows` paths
  /// x is also packed once), with the same sums as one product at a time. Otherwise one product after another.
  public func linear(_ x: Tensor, _ ws: [WeightMatrix], biases: [Tensor?], into ys: [Tensor]) {
    let ws = ws.contains { WeightMatrix.streamsRows($0.dtype) } ? ws.map { $0.streamed() } : ws
    let int8 = precision == .int8 && Matmul.int8Applies(ws)
    let shared = precision == .f32 && linearKernel == .simd ? Matmul.sharedPath(m: x.rows, ws) : nil
    guard int8 || shared != nil else {
      for i in ws.indices { linear(x, ws[i], bias: biases[i], into: ys[i]) }
      return
    }
    for (w, y) in zip(ws, ys) {
      precondition(
        w.cols == x.rowLength && y.count == x.rows * w.rows,
        "linear shapes x\(x.shape) w[\(w.rows), \(w.cols)] y\(y.shape)")
    }
    if let shared {
      Matmul.products(x.data, ws, ys.map(\.data), m: x.rows, path: shared)
    } else {
      Matmul.int8(x.data, ws, ys.map(\.data), m: x.rows)
    }
    for (i, bias) in biases.enumerated() {
      if let bias { Matmul.addBias(ys[i].data, bias.data, m: x.rows, n: ws[i].rows) }
    }
  }

  /// Elements below which an elementwise op runs on the calling thread (waking the pool costs more).
  static let elementwiseGrain = 1 << 15

  /// Rows per chunk of a row-wise op on rows of `rowLength` elements.
  static func rowGrain(_ rowLength: Int) -> Int { max(1, elementwiseGrain / max(rowLength, 1)) }

  public func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float, into y: Tensor) {
    let dim = x.rowLength
    ParallelFor.chunks(x.rows, granularity: Self.rowGrain(dim)) { rows in
      Elementwise.rmsNorm(
        x.data + rows.lowerBound * dim, weight: weight.data, y.data + rows.lowerBound * dim, rows: rows.count,
        dim: dim, eps: eps)
    }
  }

  /// One pass over the rows instead of two (the add's and the norm's): each row is read, updated and normalised
  /// while in cache, with the bits of `add` followed by `rmsNorm`.
  public func addRMSNorm(_ x: Tensor, _ delta: Tensor, weight: Tensor, eps: Float, into y: Tensor) {
    let dim = x.rowLength
    precondition(delta.count == x.count && y.count == x.count, "addRMSNorm shapes x\(x.shape) delta\(delta.shape)")
    ParallelFor.chunks(x.rows, granularity: Self.rowGrain(dim)) { rows in
      for r in rows {  // row by row, so that the norm reads the sum from L1
        Elementwise.add(x.data + r * dim, delta.data + r * dim, count: dim)
        Elementwise.rmsNorm(x.data + r * dim, weight: weight.data, y.data + r * dim, rows: 1, dim: dim, eps: eps)
      }
    }
  }

  public func rope(_ x: Tensor, numHeads: Int, cos: Tensor, sin: Tensor) {
    let headDim = x.rowLength / numHeads
    let half = headDim / 2
    ParallelFor.chunks(x.rows, granularity: Self.rowGrain(x.rowLength)) { tokens in
      Elementwise.rope(
        x.data + tokens.lowerBound * x.rowLength, numTokens: tokens.count, numHeads: numHeads, headDim: headDim,
        cos: cos.data + tokens.lowerBound * half, sin: sin.data + tokens.lowerBound * half)
    }
  }

  public func siluMul(_ gate: Tensor, _ up: Tensor) {
    ParallelFor.chunks(gate.count, granularity: Self.elementwiseGrain) { r in
      Elementwise.siluMul(
        gate.data + r.lowerBound, up.data + r.lowerBound, gate.data + r.lowerBound, count: r.count)
    }
  }

  public func add(_ x: Tensor, _ y: Tensor) {
    ParallelFor.chunks(x.count, granularity: Self.elementwiseGrain) { r in
      Elementwise.add(x.data + r.lowerBound, y.data + r.lowerBound, count: r.count)
    }
  }

  /// Makes the copies that the kernels read (so that the first decode step does not): the resident copies of F32,
  /// F16 and BF16 matrices (`WeightMatrix.streamed`), and the interleaved ones, under `.int8` of every format it reads,
  /// under `.f32` of the `.digits` path.
  public func materialize(_ weights: [WeightMatrix]) {
    for w in weights { _ = w.streamed() }
    switch precision {
    case .int8 where precision.isAvailable:
      for w in weights where InterleavedWeights.reads(w.dtype) { _ = w.interleaved() }
    case .f32 where linearKernel == .simd:
      for w in weights where Matmul.digitsApply(w.dtype) { _ = w.interleaved() }
    default: break
    }
  }

  public func release(_ weights: [WeightMatrix]) {
    for w in weights {
      w.dropInterleaved()
      w.dropStreamed()
    }
  }

  public func embed(_ ids: [Int32], table: WeightMatrix, into out: Tensor) {
    for (t, id) in ids.enumerated() {
      precondition(id >= 0 && Int(id) < table.rows, "token id \(id) outside the vocabulary")
      table.dequantize(rows: Int(id), count: 1, into: out.row(t))
    }
  }

  public func writeKV(k: Tensor, v: Tensor, slots: [Int32], cache: KVCacheLayer) {
    PagedAttention.writeKV(k: k.data, v: v.data, slots: slots, cache: cache, kvDim: k.rowLength)
  }

  public func attention(
    q: Tensor, positions: [Int32], sequences: [AttentionSequence], cache: KVCacheLayer, shape: AttentionShape,
    into out: Tensor
  ) {
    PagedAttention.forward(
      q: q.data, out: out.data, positions: positions, sequences: sequences, kCache: cache.keys,
      vCache: cache.values, kvDType: cache.dtype, shape: shape)
  }
}
