import Foundation
import SeesawTensor

#if canImport(Glibc)
  import Glibc
#endif

/// The host buffer in POSIX shared memory, for ranks that are processes on one machine: one creates the segment,
/// the others map it, and once all have mapped it the creator unlinks the name (the memory lives until the last
/// process unmaps it, so a crashed run leaves nothing behind in /dev/shm).
extension HostKVBuffer {
  /// Creates (`create`) or opens the segment `name` of the buffer's size and maps it.
  public static func shared(
    name: String, create: Bool, config: ModelConfig, numBlocks: Int, blockSize: Int, dtype: KVCacheDType
  ) throws -> HostKVBuffer {
    let bytes = bytes(config: config, numBlocks: numBlocks, blockSize: blockSize, dtype: dtype)
    let fd = create ? shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0o600) : shm_open(name, O_RDWR, 0)
    guard fd >= 0 else {
      throw ModelFileError.cannotOpen(
        path: "/dev/shm\(name)",
        reason:
          "\(String(cString: strerror(errno))) (the host KV buffer is shared memory: a replica's ranks must run on one machine)"
      )
    }
    defer { close(fd) }
    if create && ftruncate(fd, off_t(bytes)) != 0 {
      let reason = String(cString: strerror(errno))
      shm_unlink(name)
      throw ModelFileError.cannotOpen(path: "/dev/shm\(name)", reason: "cannot size to \(bytes) bytes: \(reason)")
    }
    guard let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
      throw ModelFileError.cannotOpen(path: "/dev/shm\(name)", reason: "mmap: \(String(cString: strerror(errno)))")
    }
    return HostKVBuffer(
      config: config, numBlocks: numBlocks, blockSize: blockSize, dtype: dtype, pointer: p,
      release: { munmap(p, bytes) })
  }

  /// Removes the segment's name (mapped memory stays valid).
  public static func unlinkShared(name: String) { shm_unlink(name) }
}
