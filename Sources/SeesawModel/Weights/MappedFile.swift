import Foundation
import SeesawTensor

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A read-only memory map of a whole file. Tensors view its pages instead of copying them; the map lives as long
/// as any such view.
public final class MappedFile: MappedPages, @unchecked Sendable {
  public let path: String
  public let size: Int
  /// Start of the mapping (`size` readable bytes).
  public let base: UnsafeRawPointer
  /// True when `base` is a heap copy (`init(copying:path:)`) rather than a memory map.
  private let isHeapCopy: Bool

  public init(path: String) throws {
    self.path = path
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw ModelFileError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      throw ModelFileError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else {
      throw ModelFileError.cannotOpen(path: path, reason: "not a regular file")
    }
    size = Int(info.st_size)
    guard size > 0 else {
      throw ModelFileError.truncated(path: path, what: "file header", offset: 0, needed: 8, fileSize: 0)
    }
    guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
      throw ModelFileError.cannotOpen(path: path, reason: "mmap: \(String(cString: strerror(errno)))")
    }
    base = UnsafeRawPointer(p)
    isHeapCopy = false
  }

  /// A heap copy of `bytes` that reads like a file named `path` (for parsing bytes that are not on disk: tests
  /// and fuzzing). The copy is exactly `bytes.count` long, so address sanitizers see any read past its end.
  public init(copying bytes: UnsafeRawBufferPointer, path: String) throws {
    guard bytes.count > 0 else {
      throw ModelFileError.truncated(path: path, what: "file header", offset: 0, needed: 8, fileSize: 0)
    }
    self.path = path
    size = bytes.count
    let copy = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
    copy.copyMemory(from: bytes.baseAddress!, byteCount: size)
    base = UnsafeRawPointer(copy)
    isHeapCopy = true
  }

  deinit {
    if isHeapCopy {
      UnsafeMutableRawPointer(mutating: base).deallocate()
    } else {
      munmap(UnsafeMutableRawPointer(mutating: base), size)
    }
  }

  /// Drops this process's page-table entries for the whole pages inside `count` bytes at `bytes`, once they have been
  /// copied (`WeightMatrix.streamed`): the page cache keeps them, reclaimable, instead of their counting twice in the
  /// process's memory; a later read maps them again. Nothing for a heap copy.
  public func release(_ bytes: UnsafeRawPointer, count: Int) {
    guard !isHeapCopy else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = (Int(bitPattern: bytes) + page - 1) & ~(page - 1)
    let end = (Int(bitPattern: bytes) + count) & ~(page - 1)
    if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED) }
  }

  /// Throws `truncated` unless bytes `offset..<offset+count` lie inside the file.
  public func check(_ offset: Int, _ count: Int, _ what: @autoclosure () -> String) throws {
    let (end, overflow) = offset.addingReportingOverflow(count)
    guard offset >= 0, count >= 0, !overflow, end <= size else {
      throw ModelFileError.truncated(path: path, what: what(), offset: offset, needed: count, fileSize: size)
    }
  }
}
