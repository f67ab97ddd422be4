import Foundation
import Testing

@testable import SeesawTensor

@Suite("Huge page arena")
struct HugePageArenaTests {
  static let mib = 1 << 20

  @Test("allocations follow one another in a chunk aligned to 2 MiB, each on 64 bytes, until it is full")
  func cutsInOrder() {
    let arena = HugePageArena(chunkBytes: 4 * Self.mib)
    let a = arena.allocate(byteCount: 100)
    let b = arena.allocate(byteCount: 3 * Self.mib)
    let c = arena.allocate(byteCount: 1)
    #expect(Int(bitPattern: a.chunk.base) % HugePageArena.pageBytes == 0)
    #expect(a.pointer == a.chunk.base)
    #expect(b.chunk === a.chunk && c.chunk === a.chunk)
    #expect(b.pointer == a.pointer + 128)
    #expect(c.pointer == b.pointer + 3 * Self.mib)
    // 4 MiB less 3 MiB + 192 bytes are left: 1 MiB does not fit and starts a new chunk.
    let d = arena.allocate(byteCount: Self.mib)
    #expect(d.chunk !== a.chunk && d.pointer == d.chunk.base)
    #expect(Int(bitPattern: d.chunk.base) % HugePageArena.pageBytes == 0)
  }

  @Test("a copy bigger than a chunk gets one of its own, in whole huge pages, and the current chunk goes on")
  func bigCopies() {
    let arena = HugePageArena(chunkBytes: 2 * Self.mib)
    let small = arena.allocate(byteCount: 64)
    let big = arena.allocate(byteCount: 5 * Self.mib + 1)
    #expect(big.chunk !== small.chunk)
    #expect(big.chunk.capacity == 6 * Self.mib)
    #expect(arena.allocate(byteCount: 64).pointer == small.pointer + 64)
  }

  @Test("a chunk is freed when the last allocation cut from it goes")
  func freesChunks() {
    let arena = HugePageArena(chunkBytes: 2 * Self.mib)
    weak var first: HugePageArena.Chunk?
    var held: [HugePageArena.Allocation] = [
      arena.allocate(byteCount: Self.mib), arena.allocate(byteCount: Self.mib / 2),
    ]
    first = held[0].chunk
    let next = arena.allocate(byteCount: Self.mib)  // does not fit: the arena lets go of the first chunk
    #expect(next.chunk !== first)
    held.removeFirst()
    #expect(first != nil)  // the second allocation still holds it
    held.removeAll()
    #expect(first == nil)
  }

  @Test("on Linux the kernel records the advice for huge pages on a chunk's memory")
  func advisesHugePages() throws {
    #if os(Linux)
      // Kernels built without transparent huge pages have no such directory, and madvise refuses the advice.
      guard FileManager.default.fileExists(atPath: "/sys/kernel/mm/transparent_hugepage/enabled") else { return }
      let chunk = HugePageArena.Chunk(capacity: 4 * Self.mib)
      chunk.base.initializeMemory(as: UInt8.self, repeating: 1, count: chunk.capacity)
      let start = UInt(bitPattern: chunk.base)
      // Read to the end: String(contentsOfFile:) stops at the first 4 KiB of a /proc file.
      let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
      let smaps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
      var inChunk = false
      var flags: [String]?
      for line in smaps.split(separator: "\n") {
        let fields = line.split(separator: " ")
        if let range = fields.first, range.contains("-"), fields.count >= 5 {
          let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
          inChunk = bounds.count == 2 && bounds[0] <= start && start < bounds[1]
        } else if inChunk, line.hasPrefix("VmFlags:") {
          flags = fields.dropFirst().map(String.init)
        }
      }
      withExtendedLifetime(chunk) {}
      #expect(flags?.contains("hg") == true, "VmFlags of the chunk's mapping: \(flags ?? [])")
    #endif
  }
}
