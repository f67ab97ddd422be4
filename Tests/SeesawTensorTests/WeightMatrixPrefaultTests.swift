import Foundation
import Testing

@testable import SeesawTensor

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Weight prefault")
struct WeightMatrixPrefaultTests {
  /// A read-only map of a file, unmapped with its last view.
  final class Mapping {
    let base: UnsafeMutableRawPointer
    let size: Int
    init(path: String, size: Int) {
      let fd = open(path, O_RDONLY)
      defer { close(fd) }
      base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)!
      self.size = size
    }
    deinit { munmap(base, size) }

    /// Pages of the map in memory, of all its pages.
    func resident() -> (Int, Int) {
      let page = Int(sysconf(Int32(_SC_PAGESIZE)))
      var flags = [UInt8](repeating: 0, count: (size + page - 1) / page)
      _ = mincore(base, size, &flags)
      return (flags.filter { $0 & 1 != 0 }.count, flags.count)
    }
  }

  @Test("a mapped matrix whose file is not in the page cache is all in memory after prefault")
  func prefaultReadsPagesIn() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("prefault-\(getpid()).bin").path
    defer { unlink(path) }
    let (rows, cols) = (512, 1024)  // 1 MiB of BF16
    try Data((0..<(rows * cols * 2)).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: path))
    // Write back and drop the file's pages from the page cache.
    let fd = open(path, O_RDONLY)
    fsync(fd)
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
    close(fd)
    let mapping = Mapping(path: path, size: rows * cols * 2)
    let (before, total) = mapping.resident()
    #expect(before < total, "the file stayed in the page cache (\(before) of \(total) pages)")
    let w = WeightMatrix(dtype: .bf16, rows: rows, cols: cols, bytes: mapping.base, owner: mapping)
    w.prefault()
    #expect(mapping.resident() == (total, total))
  }
}
