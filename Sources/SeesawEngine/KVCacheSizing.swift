import Foundation
import SeesawModel

/// How many KV blocks fit in the memory budget.
public enum KVCacheSizing {
  /// Share of the memory available after the weights that the KV cache takes by default.
  public static let defaultFraction = 0.25
  /// Cap of the default budget, so that a large machine does not get an absurd cache.
  public static let defaultCap = 8 << 30

  /// Blocks for `engine.kvCacheMemory` bytes, or for the default budget.
  public static func numBlocks(config: ModelConfig, engine: EngineConfig) -> Int {
    let bytes = engine.kvCacheMemory ?? min(defaultCap, Int(Double(availableMemory()) * defaultFraction))
    return max(
      1, bytes / PagedKVCache.bytesPerBlock(config: config, blockSize: engine.blockSize, dtype: engine.kvCacheDType))
  }

  /// Share of the available memory that a Seesaw host KV buffer takes by default, and its cap.
  public static let defaultHostFraction = 0.25
  public static let defaultHostCap = 16 << 30

  /// Host KV buffer blocks for `engine.numHostBlocks`, `engine.hostKVMemory` bytes, or the default budget, split
  /// between `numReplicas` buffers.
  public static func numHostBlocks(config: ModelConfig, engine: EngineConfig, numReplicas: Int = 1) -> Int {
    if let n = engine.numHostBlocks { return n }
    let bytes = engine.hostKVMemory ?? min(defaultHostCap, Int(Double(availableMemory()) * defaultHostFraction))
    let perBlock = HostKVBuffer.bytesPerBlock(config: config, blockSize: engine.blockSize, dtype: engine.kvCacheDType)
    return max(1, bytes / max(numReplicas, 1) / perBlock)
  }

  /// MemAvailable from /proc/meminfo, else the physical memory.
  public static func availableMemory() -> Int {
    if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
      for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
        let parts = line.split(separator: " ")
        if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
      }
    }
    return Int(ProcessInfo.processInfo.physicalMemory)
  }
}
