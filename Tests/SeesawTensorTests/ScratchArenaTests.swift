import Foundation
import Testing

@testable import SeesawTensor

@Suite("Scratch arena")
struct ScratchArenaTests {
  @Test("nested buffers are aligned, do not overlap, and come back for the next call")
  func nestedBuffers() {
    var outer: UnsafeMutablePointer<Float>?
    ScratchArena.with(Float.self, 1000) { a in
      outer = a
      a.initialize(repeating: 1, count: 1000)
      ScratchArena.with(Int8.self, 3, Double.self, 10) { b, c in
        for p in [UnsafeRawPointer(a), UnsafeRawPointer(b), UnsafeRawPointer(c)] {
          #expect(Int(bitPattern: p) % 64 == 0)
        }
        #expect(UnsafeRawPointer(b) >= UnsafeRawPointer(a + 1000) && UnsafeRawPointer(c) >= UnsafeRawPointer(b + 3))
        b.initialize(repeating: 7, count: 3)
        c.initialize(repeating: 2, count: 10)
      }
      #expect((0..<1000).allSatisfy { a[$0] == 1 }, "the inner buffers left the outer one alone")
    }
    ScratchArena.with(Float.self, 10) { #expect($0 == outer, "the same memory, given back") }
  }

  @Test("a request larger than the arena is served, and the arena grows to it once free")
  func growsToLargeRequests() {
    let large = 4 * max(ScratchArena.capacity, 1 << 16)
    ScratchArena.with(UInt8.self, 16) { _ in
      ScratchArena.with(UInt8.self, large) { big in
        big.initialize(repeating: 3, count: large)
        #expect(big[large - 1] == 3)
      }
    }
    ScratchArena.with(UInt8.self, 1) { _ in }
    #expect(ScratchArena.capacity >= large + 64)
  }

  @Test("each thread has its own arena")
  func perThread() async {
    let addresses = await withTaskGroup(of: Int.self) { group in
      for _ in 0..<2 {
        group.addTask {
          await withCheckedContinuation { done in
            Thread {
              ScratchArena.with(UInt8.self, 64) { p in
                usleep(20_000)  // both threads hold their buffers at once
                done.resume(returning: Int(bitPattern: p))
              }
            }.start()
          }
        }
      }
      return await group.reduce(into: []) { $0.append($1) }
    }
    #expect(Set(addresses).count == 2)
  }
}
