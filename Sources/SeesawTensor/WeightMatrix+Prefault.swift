#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension WeightMatrix {
  /// MADV_POPULATE_READ (Linux 5.14): fault a range in, reading it from the file where it is not in the page cache.
  static let madvisePopulateRead: Int32 = 22

  /// Reads the pages of a mapped matrix in now, into the page cache and this process's page tables, as llama.cpp's
  /// loader does with MAP_POPULATE: otherwise the first forward pass stops on a page fault every 4 KiB, and on a disk
  /// read wherever the file is not cached (TinyLlama-shaped BF16, 2.2 GB, not in the page cache: its first
  /// 128-token prefill took 3.3 s instead of 1.1 s). Only this matrix's bytes: a pipeline stage reads in its own
  /// layers. Kernels without MADV_POPULATE_READ get one read per page instead.
  public func prefault() {
    guard !ownsBase, !isResident, rows > 0 else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = Int(bitPattern: base) & ~(page - 1)
    let end = Int(bitPattern: base) + (rows - 1) * rowStride + rowBytes
    if madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, Self.madvisePopulateRead) == 0 { return }
    var sum: UInt8 = 0
    for p in stride(from: start, to: end, by: page) { sum &+= UnsafePointer<UInt8>(bitPattern: p)!.pointee }
    withExtendedLifetime(sum) {}
  }
}
