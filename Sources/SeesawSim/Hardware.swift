import Foundation

/// One accelerator model, from its vendor's datasheet (dense FP16/BF16 tensor throughput without sparsity), or this
/// machine's CPU as `seesaw calibrate` measured it.
public struct DeviceSpec: Sendable, Equatable, Codable {
  public var name: String
  /// Peak dense FP16/BF16 FLOP/s.
  public var peakFLOPS: Double
  /// HBM/GDDR bandwidth, bytes/s.
  public var memoryBandwidth: Double
  /// Device memory, bytes.
  public var memoryBytes: Double
  /// Device-to-device bandwidth per direction, bytes/s (PCIe between the cards, or NVLink), and its latency.
  public var linkBandwidth: Double
  public var linkLatency: Double
  /// Share of `linkBandwidth` that NCCL's collectives reach (nil: all of it, as for a measured device). Cited for the
  /// catalog: on PCIe servers the CPU's root complexes and memory carry every flow, and an 8-GPU PCIe 5.0 x16 server
  /// reaches 28 GB/s all-reduce bus bandwidth of 64 (NVIDIA/nccl#1639, a maintainer: "determined by the bandwidth
  /// your CPU and memory can deliver"): 0.45; NVLink rings reach about 0.8 of the link (A100: ~230 of 300 GB/s).
  public var linkEfficiency: Double? = nil
  /// Host <-> device copy bandwidth, bytes/s (PCIe), for re-sharding weights and swapping K/V.
  public var hostBandwidth: Double
  /// Host memory per device, bytes (the paper's machines: 80 GiB per GPU).
  public var hostMemoryBytes: Double
  /// Shares of the peaks that the engine's kernels reach: cited for GPUs (dense GEMMs about 70% of the tensor peak,
  /// streaming kernels about 85% of bandwidth, as vLLM and FlashAttention report), measured for a calibrated CPU.
  public var computeEfficiency = 0.7
  public var memoryEfficiency = 0.85
  /// Bytes per weight parameter as stored (FP16: 2; a Q4_1 file: 0.625), and per activation or K/V value.
  public var weightBytesPerParam = 2.0
  public var valueBytes = 2.0
  /// Measured compute efficiency by the tokens of a forward pass on the device, for devices whose kernels change
  /// with the batch (a CPU: gemv-like decode, tiled prefill); `seesaw calibrate` writes it. Interpolated in
  /// log(tokens) and clamped at the ends; without it, `computeEfficiency` holds for every size.
  public var computeEfficiencyCurve: [EfficiencyPoint]? = nil
  /// The LM head's own efficiency by the rows it computes (`tokens` of each point: sampled rows), as `seesaw
  /// calibrate` measures it apart from the layers: on a CPU the head is one large matrix, whose product runs faster
  /// per FLOP than the layers' small ones, and a pipeline puts it all in the last stage. Without it the head shares
  /// the layers' efficiency.
  public var headEfficiencyCurve: [EfficiencyPoint]? = nil
  /// Linear layers of a pass with at least this many tokens compute whole multiples of it (nil: exactly the
  /// tokens). This engine's CPU GEMM runs x in 32-token panels whose last one is 16 or 32 tokens wide, so 49 tokens
  /// take as long as 64 (`seesaw bench matmul --m 33,48,49,64`); `seesaw calibrate` writes 16.
  public var tokenGranularity: Int? = nil
  /// Devices of a cluster that share one machine (in-process ranks of a CPU): entry k - 1 is how many times slower
  /// each computes while k compute at once (1 for k = 1), as `seesaw calibrate` measures it at the slowest one's pace,
  /// which ranks that synchronise keep; beyond the last entry the slowdown grows in proportion to k. Without it,
  /// devices are independent (GPUs).
  public var contention: [Double]? = nil
  /// `contention` for the ranks of a tensor-parallel group, which compute in lockstep: they meet at two all-reduces
  /// per layer, so every piece between two of them lasts as long as its slower rank's, and the group loses more to
  /// the other tenants of a shared machine than ranks that meet once a step. `seesaw calibrate --tensor-parallel N`
  /// measures it on the model's own shards, the all-reduces' modelled time taken out. Without it, `contention`
  /// serves tensor-parallel groups too.
  public var lockstepContention: [Double]? = nil
  /// Seconds the driver spends per logit of a sampled row, after the forward pass (greedy, as simulated requests
  /// and `bench` sample: an argmax over the vocabulary), as `seesaw calibrate` times the engine's sampler on this
  /// host. Nil for GPUs, which sample on the device in a small fraction of a step.
  public var sampleSecondsPerLogit: Double? = nil
  /// The share of `memoryBandwidth` at which attention reads K/V (a gather of each sequence's rows, block by block,
  /// interleaved with the score and value arithmetic), as `seesaw calibrate` times the attention kernel alone on
  /// decode steps. Without it, `memoryEfficiency`. Measured apart so that attention keeps its own cost as contexts
  /// grow and as tensor parallelism splits its KV heads differently from the linear layers.
  public var attentionEfficiency: Double? = nil

  /// The slowdown of each of `busy` devices computing at once on a shared machine.
  public static func slowdown(_ contention: [Double], busy: Int) -> Double {
    guard busy > 1, let last = contention.last else { return 1 }
    return busy <= contention.count ? contention[busy - 1] : last * Double(busy) / Double(contention.count)
  }

  /// Bytes per second a collective or a send moves between two devices.
  public var effectiveLinkBandwidth: Double { linkBandwidth * (linkEfficiency ?? 1) }

  /// The share of the compute peak a forward pass of `tokens` tokens reaches.
  public func computeEfficiency(tokens: Double) -> Double {
    Self.interpolate(computeEfficiencyCurve, at: tokens) ?? computeEfficiency
  }

  /// The share of the compute peak the LM head reaches on `rows` rows, nil when it is not measured apart.
  public func headEfficiency(rows: Double) -> Double? { Self.interpolate(headEfficiencyCurve, at: rows) }

  /// A curve's efficiency at `tokens`, interpolated in log(tokens) and clamped at its ends; nil without a curve.
  static func interpolate(_ curve: [EfficiencyPoint]?, at tokens: Double) -> Double? {
    guard let curve, let first = curve.first, let last = curve.last else { return nil }
    if tokens <= Double(first.tokens) { return first.efficiency }
    if tokens >= Double(last.tokens) { return last.efficiency }
    let upper = curve.firstIndex { Double($0.tokens) >= tokens }!
    let (a, b) = (curve[upper - 1], curve[upper])
    let f = log(tokens / Double(a.tokens)) / log(Double(b.tokens) / Double(a.tokens))
    return a.efficiency + f * (b.efficiency - a.efficiency)
  }

  public init(
    name: String, peakFLOPS: Double, memoryBandwidth: Double, memoryBytes: Double, linkBandwidth: Double,
    linkLatency: Double, hostBandwidth: Double, hostMemoryBytes: Double
  ) {
    self.name = name
    self.peakFLOPS = peakFLOPS
    self.memoryBandwidth = memoryBandwidth
    self.memoryBytes = memoryBytes
    self.linkBandwidth = linkBandwidth
    self.linkLatency = linkLatency
    self.hostBandwidth = hostBandwidth
    self.hostMemoryBytes = hostMemoryBytes
  }
}

/// One measured point of a device's compute efficiency: forward passes of `tokens` tokens reach `efficiency` of the
/// peak (ascending `tokens` in a curve).
public struct EfficiencyPoint: Sendable, Equatable, Codable {
  public var tokens: Int
  public var efficiency: Double

  public init(tokens: Int, efficiency: Double) {
    self.tokens = tokens
    self.efficiency = efficiency
  }
}

/// The devices the simulator knows. Figures are the datasheets'; links are what the paper's machines had (PCIe 4.0
/// x8 between cards, 16 GB/s) unless the device is the NVLink/SXM variant.
public enum HardwareCatalog {
  static let gib = 1024.0 * 1024 * 1024
  /// PCIe 4.0 x8 (the paper's A10/L4 servers): 16 GB/s per direction; x16 for the A100/H100 PCIe cards: 32 GB/s.
  static let pcie4x8 = 16e9, pcie4x16 = 32e9, pcie5x16 = 64e9

  public static let devices: [String: DeviceSpec] = datasheets.mapValues { d in
    var d = d
    let nvlink = d.linkBandwidth > pcie5x16
    d.linkEfficiency = nvlink ? 0.8 : 0.45
    return d
  }

  static let datasheets: [String: DeviceSpec] = [
    // NVIDIA A10 datasheet: 125 TFLOPS FP16 tensor, 600 GB/s GDDR6, 24 GB.
    "A10": DeviceSpec(
      name: "A10", peakFLOPS: 125e12, memoryBandwidth: 600e9, memoryBytes: 24 * gib, linkBandwidth: pcie4x8,
      linkLatency: 10e-6, hostBandwidth: pcie4x8, hostMemoryBytes: 80 * gib),
    // NVIDIA L4 datasheet: 121 TFLOPS FP16 tensor (242 with sparsity), 300 GB/s, 24 GB.
    "L4": DeviceSpec(
      name: "L4", peakFLOPS: 121e12, memoryBandwidth: 300e9, memoryBytes: 24 * gib, linkBandwidth: pcie4x8,
      linkLatency: 10e-6, hostBandwidth: pcie4x8, hostMemoryBytes: 80 * gib),
    // NVIDIA A100 datasheet: 312 TFLOPS FP16 tensor; 40 GB HBM2 1555 GB/s, 80 GB HBM2e 1935 GB/s (PCIe) / 2039 (SXM);
    // NVLink 3: 600 GB/s bidirectional = 300 GB/s per direction.
    "A100-40G-PCIe": DeviceSpec(
      name: "A100-40G-PCIe", peakFLOPS: 312e12, memoryBandwidth: 1555e9, memoryBytes: 40 * gib, linkBandwidth: pcie4x16,
      linkLatency: 10e-6, hostBandwidth: pcie4x16, hostMemoryBytes: 80 * gib),
    "A100-40G-NVLink": DeviceSpec(
      name: "A100-40G-NVLink", peakFLOPS: 312e12, memoryBandwidth: 1555e9, memoryBytes: 40 * gib, linkBandwidth: 300e9,
      linkLatency: 5e-6, hostBandwidth: pcie4x16, hostMemoryBytes: 80 * gib),
    "A100-80G-PCIe": DeviceSpec(
      name: "A100-80G-PCIe", peakFLOPS: 312e12, memoryBandwidth: 1935e9, memoryBytes: 80 * gib, linkBandwidth: pcie4x16,
      linkLatency: 10e-6, hostBandwidth: pcie4x16, hostMemoryBytes: 80 * gib),
    "A100-80G-SXM": DeviceSpec(
      name: "A100-80G-SXM", peakFLOPS: 312e12, memoryBandwidth: 2039e9, memoryBytes: 80 * gib, linkBandwidth: 300e9,
      linkLatency: 5e-6, hostBandwidth: pcie4x16, hostMemoryBytes: 80 * gib),
    // NVIDIA H100 datasheet: PCIe 756 TFLOPS FP16 dense (1513 sparse), 2.0 TB/s, 80 GB, PCIe 5.0;
    // SXM 989 TFLOPS dense, 3.35 TB/s, NVLink 4 900 GB/s bidirectional.
    "H100-PCIe": DeviceSpec(
      name: "H100-PCIe", peakFLOPS: 756e12, memoryBandwidth: 2000e9, memoryBytes: 80 * gib, linkBandwidth: pcie5x16,
      linkLatency: 10e-6, hostBandwidth: pcie5x16, hostMemoryBytes: 80 * gib),
    "H100-SXM": DeviceSpec(
      name: "H100-SXM", peakFLOPS: 989e12, memoryBandwidth: 3350e9, memoryBytes: 80 * gib, linkBandwidth: 450e9,
      linkLatency: 5e-6, hostBandwidth: pcie5x16, hostMemoryBytes: 80 * gib),
    // NVIDIA H200 datasheet: 989 TFLOPS FP16 dense, 4.8 TB/s HBM3e, 141 GB, NVLink 900 GB/s bidirectional.
    "H200": DeviceSpec(
      name: "H200", peakFLOPS: 989e12, memoryBandwidth: 4800e9, memoryBytes: 141e9, linkBandwidth: 450e9,
      linkLatency: 5e-6, hostBandwidth: pcie5x16, hostMemoryBytes: 80 * gib),
  ]

  /// "8xA10", "4xL4", "A100-80G-SXM" (one device), or "2xcpu.json" (a device file written by `seesaw calibrate`).
  public static func cluster(_ text: String) throws -> Cluster {
    let parts = text.split(separator: "x", maxSplits: 1)
    let (count, name) = parts.count == 2 && Int(parts[0]) != nil ? (Int(parts[0])!, String(parts[1])) : (1, text)
    if name.hasSuffix(".json") {
      guard let data = FileManager.default.contents(atPath: name) else {
        throw SimulationError.unknown(what: "hardware file", name: name, known: "a file written by seesaw calibrate")
      }
      do {
        return Cluster(device: try JSONDecoder().decode(DeviceSpec.self, from: data), count: count)
      } catch {
        throw SimulationError.unknown(
          what: "hardware file", name: "\(name): \(error)", known: "seesaw calibrate's output")
      }
    }
    guard let device = devices[name] ?? devices.first(where: { $0.key.lowercased() == name.lowercased() })?.value,
      count > 0
    else {
      throw SimulationError.unknown(
        what: "hardware", name: text, known: devices.keys.sorted().map { "4x\($0)" }.joined(separator: ", "))
    }
    return Cluster(device: device, count: count)
  }
}

/// `count` identical devices in one server.
public struct Cluster: Sendable, Equatable, CustomStringConvertible {
  public var device: DeviceSpec
  public var count: Int

  public init(device: DeviceSpec, count: Int) {
    self.device = device
    self.count = count
  }

  public var description: String { "\(count)x\(device.name)" }
}

/// Bad names and impossible set-ups, each naming what is wrong.
public enum SimulationError: Error, Equatable, CustomStringConvertible {
  /// A hardware, model or workload name the catalog does not have.
  case unknown(what: String, name: String, known: String)
  /// The model does not fit the devices in this layout.
  case doesNotFit(layout: String, reason: String)
  /// A layout that needs another number of devices.
  case wrongDeviceCount(layout: String, devices: Int)

  public var description: String {
    switch self {
    case .unknown(let what, let name, let known): return "unknown \(what) '\(name)' (known: \(known))"
    case .doesNotFit(let layout, let reason): return "layout \(layout) does not fit: \(reason)"
    case .wrongDeviceCount(let layout, let devices): return "layout \(layout) does not use the \(devices) devices"
    }
  }
}
