import SeesawModel
import SeesawParallel
import SeesawTensor

/// What the driver sends every rank of a replica for one step: a plain value (token ids, positions, slots, block
/// tables), never scheduler state. Ranks run the micro-batches in order through their pipeline stage.
struct StepCommand: Sendable, Equatable {
  enum Kind: UInt8 {
    case step = 1
    /// Send your report and stop.
    case shutdown = 2
  }

  var kind: Kind
  /// The step has no prompt work (for the per-phase counters of the reports).
  var isDecodeOnly: Bool
  /// Copy-on-write of shared blocks, before the forward pass.
  var blockCopies: [BlockCopy]
  /// At most pp micro-batches, each a flat batch of whole sequences.
  var microBatches: [ForwardBatch]
  /// The layout to run in (a change is a transition), and the K/V moves around the forward pass (see
  /// `SchedulerOutput`).
  var phase = Phase.decode
  var evictions: [KVTransfer] = []
  var swapIns: [KVTransfer] = []
  var prefetches: [KVTransfer] = []
  var swapOuts: [KVTransfer] = []
  /// The micro-batch of each swap-out: a rank starts copying a prompt out as soon as its micro-batch has passed
  /// this rank's stage, while the next micro-batch computes.
  var swapOutMicroBatches: [Int32] = []

  static let shutdown = StepCommand(kind: .shutdown, isDecodeOnly: false, blockCopies: [], microBatches: [])

  var hasTransfers: Bool { !evictions.isEmpty || !swapIns.isEmpty || !prefetches.isEmpty || !swapOuts.isEmpty }
}

extension StepCommand {
  /// Little-endian bytes: kind, flag, copies, then each micro-batch's arrays with their counts.
  func encoded() -> [UInt8] {
    var w = ByteWriter()
    w.int(Int(kind.rawValue))
    w.int(isDecodeOnly ? 1 : 0)
    w.int(Int(phase.rawValue))
    w.int32s(swapOutMicroBatches)
    for list in [evictions, swapIns, prefetches, swapOuts] {
      w.int(list.count)
      for t in list {
        w.int(t.sequenceID)
        w.int(t.numTokens)
        w.int32s(t.deviceTable)
        w.int32s(t.hostTable)
      }
    }
    w.int32s(blockCopies.flatMap { [$0.source, $0.destination] })
    w.int(microBatches.count)
    for b in microBatches {
      w.int32s(b.tokenIDs)
      w.int32s(b.positions)
      w.int32s(b.slots)
      w.int32s(b.logitRows.map(Int32.init))
      w.int(b.sequences.count)
      for s in b.sequences {
        w.int(s.tokenStart)
        w.int(s.numTokens)
        w.int32s(s.blockTable)
      }
    }
    return w.bytes
  }

  init(decoding bytes: [UInt8]) throws {
    var r = ByteReader(bytes)
    guard let kind = Kind(rawValue: UInt8(truncatingIfNeeded: try r.int())) else { throw r.failure("command kind") }
    self.kind = kind
    isDecodeOnly = try r.int() != 0
    guard let phase = Phase(rawValue: UInt8(truncatingIfNeeded: try r.int())) else { throw r.failure("phase") }
    self.phase = phase
    swapOutMicroBatches = try r.int32s()
    var lists: [[KVTransfer]] = []
    for _ in 0..<4 {
      lists.append(
        try (0..<r.count(limit: 1 << 24)).map { _ in
          let (id, n) = (try r.int(), try r.int())
          return KVTransfer(sequenceID: id, deviceTable: try r.int32s(), hostTable: try r.int32s(), numTokens: n)
        })
    }
    (evictions, swapIns, prefetches, swapOuts) = (lists[0], lists[1], lists[2], lists[3])
    guard swapOutMicroBatches.count == swapOuts.count else { throw r.failure("swap-out micro-batches") }
    let copies = try r.int32s()
    blockCopies = stride(from: 0, to: copies.count - 1, by: 2).map {
      BlockCopy(source: copies[$0], destination: copies[$0 + 1])
    }
    microBatches = try (0..<r.count(limit: 1 << 16)).map { _ in
      let (tokens, positions, slots, logitRows) = (try r.int32s(), try r.int32s(), try r.int32s(), try r.int32s())
      let sequences = try (0..<r.count(limit: 1 << 24)).map { _ in
        AttentionSequence(tokenStart: try r.int(), numTokens: try r.int(), blockTable: try r.int32s())
      }
      return ForwardBatch(
        tokenIDs: tokens, positions: positions, slots: slots, sequences: sequences, logitRows: logitRows.map(Int.init))
    }
    guard r.isAtEnd else { throw r.failure("trailing bytes") }
  }
}

/// Appends little-endian integers to a byte array.
struct ByteWriter {
  var bytes: [UInt8] = []

  mutating func int(_ v: Int) { withUnsafeBytes(of: Int64(v).littleEndian) { bytes += $0 } }

  mutating func int32s(_ values: [Int32]) {
    int(values.count)
    values.withUnsafeBytes { bytes += $0 }
  }

  mutating func doubles(_ values: [Double]) {
    int(values.count)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
  }
}

/// Reads what `ByteWriter` wrote; a short or malformed message throws instead of trapping.
struct ByteReader {
  let bytes: [UInt8]
  var offset = 0

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  var isAtEnd: Bool { offset == bytes.count }

  func failure(_ what: String) -> ExecutorError {
    .protocolError(reason: "malformed message: \(what) at byte \(offset) of \(bytes.count)")
  }

  mutating func int() throws -> Int {
    guard offset + 8 <= bytes.count else { throw failure("integer") }
    var v: Int64 = 0
    withUnsafeMutableBytes(of: &v) { $0.copyBytes(from: bytes[offset..<(offset + 8)]) }
    offset += 8
    return Int(Int64(littleEndian: v))
  }

  /// A count that must be in 0...limit.
  mutating func count(limit: Int) throws -> Int {
    let n = try int()
    guard n >= 0 && n <= limit else { throw failure("count \(n)") }
    return n
  }

  mutating func int32s() throws -> [Int32] {
    let n = try count(limit: (bytes.count - offset) / 4)
    var out = [Int32](repeating: 0, count: n)
    out.withUnsafeMutableBytes { $0.copyBytes(from: bytes[offset..<(offset + 4 * n)]) }
    offset += 4 * n
    return out.map { Int32(littleEndian: $0) }
  }

  mutating func doubles() throws -> [Double] {
    let n = try count(limit: (bytes.count - offset) / 8)
    return try (0..<n).map { _ in Double(bitPattern: UInt64(truncatingIfNeeded: try int())) }
  }
}
