import ArgumentParser
import Foundation

/// Writes result lines in input order: a line waits until every earlier one is out. `flush()` writes what is ready
/// in one piece and, for a file, fsyncs it, so that a crash loses at most the lines since the last flush (and
/// leaves at most one torn line at the end).
final class OutputWriter {
  private let handle: FileHandle
  private let isFile: Bool
  private var pending: [Int: Data] = [:]
  private var ready = Data()
  private var next = 0

  /// stdout when `path` is nil or "-"; otherwise the file, created (or emptied), or appended to with `append`.
  init(path: String?, append: Bool = false) throws {
    guard let path, path != "-" else {
      handle = FileHandle.standardOutput
      isFile = false
      return
    }
    if !append || !FileManager.default.fileExists(atPath: path) {
      guard FileManager.default.createFile(atPath: path, contents: nil) else {
        throw ValidationError("--output \(path): cannot create")
      }
    }
    guard let h = FileHandle(forWritingAtPath: path) else { throw ValidationError("--output \(path): cannot open") }
    try h.seekToEnd()
    handle = h
    isFile = true
  }

  func write(line: Int, object: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    write(line: line, data: data + Data("\n".utf8))
  }

  func write(line: Int, text: String) { write(line: line, data: Data((text + "\n").utf8)) }

  /// Queues `data` (one line with its newline) as line `line` (0-based, counted among the lines this writer writes).
  func write(line: Int, data: Data) {
    pending[line] = data
    while let data = pending.removeValue(forKey: next) {
      ready.append(data)
      next += 1
    }
  }

  /// Lines written so far, ready or on disk.
  var numWritten: Int { next }

  func flush() throws {
    guard !ready.isEmpty else { return }
    try handle.write(contentsOf: ready)
    ready.removeAll(keepingCapacity: true)
    if isFile { try handle.synchronize() }
  }

  func close() throws {
    try flush()
    if isFile { try handle.close() }
  }
}
