import Foundation

/// Per-thread scratch memory for kernels: a block kept between calls and handed out as a stack, so a call's
/// temporaries (encoded rows of x, attention tiles, partial results) cost a pointer bump instead of a malloc and a
/// free. Batch-1 decode of a small model makes ~150 products and ~30 attention calls a step, each of which allocated
/// two to four buffers (SmolLM2 on one thread: 0.6 µs of a 1.5 µs set-up per product was allocation).
///
/// Each thread has its own arena (workers of the pool included), so no locks. Nested calls are safe: an inner
/// `with` takes memory above the outer one's and gives it back on return. A request that does not fit is served by
/// the heap (the arena grows for the next call once no one on the thread is using it). Like `Workspace`'s buffers, an
/// arena keeps the most its thread has held at once (a prefill step's int8 panels of x included).
public enum ScratchArena {
  /// `body` gets `count` 64-byte aligned `T`s, uninitialized, valid until it returns.
  @inline(__always) public static func with<T: ~Copyable, R>(
    _ type: T.Type, _ count: Int, _ body: (UnsafeMutablePointer<T>) throws -> R
  ) rethrows -> R {
    let bytes = (max(1, count) * MemoryLayout<T>.stride + 63) & ~63
    let arena = Arena.current
    guard let raw = arena.take(bytes) else {
      let heap = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
      defer { heap.deallocate() }
      return try body(heap.bindMemory(to: T.self, capacity: count))
    }
    defer { arena.used -= bytes }
    return try body(raw.bindMemory(to: T.self, capacity: count))
  }

  /// Two buffers at once (`with` nested).
  @inline(__always) public static func with<T, U, R>(
    _ t: T.Type, _ tCount: Int, _ u: U.Type, _ uCount: Int,
    _ body: (UnsafeMutablePointer<T>, UnsafeMutablePointer<U>) throws -> R
  ) rethrows -> R {
    try with(t, tCount) { a in try with(u, uCount) { b in try body(a, b) } }
  }

  /// Bytes of this thread's arena (tests).
  static var capacity: Int { Arena.current.capacity }

  final class Arena {
    private var base: UnsafeMutableRawPointer?
    private(set) var capacity = 0
    var used = 0
    /// The most bytes the thread's calls have held at once: the size the arena grows to once empty.
    var wanted = 0

    /// This thread's arena, made on first use and freed with the thread.
    static var current: Arena {
      if let existing = pthread_getspecific(key) {
        return Unmanaged<Arena>.fromOpaque(existing).takeUnretainedValue()
      }
      let made = Arena()
      pthread_setspecific(key, Unmanaged.passRetained(made).toOpaque())
      return made
    }

    private static let key: pthread_key_t = {
      var key = pthread_key_t()
      pthread_key_create(&key) { $0.map { Unmanaged<Arena>.fromOpaque($0).release() } }
      return key
    }()

    @inline(__always) func take(_ bytes: Int) -> UnsafeMutableRawPointer? {
      wanted = max(wanted, used + bytes)
      if used == 0 && wanted > capacity { grow() }
      guard used + bytes <= capacity, let base else { return nil }
      defer { used += bytes }
      return base + used
    }

    private func grow() {
      base?.deallocate()
      capacity = max(wanted, 2 * capacity, 64 << 10)
      base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    deinit { base?.deallocate() }
  }
}
