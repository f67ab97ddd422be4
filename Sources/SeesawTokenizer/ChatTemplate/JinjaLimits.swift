/// Caps on what one render may build. jinja2 has none: Python grows a string until memory runs out, and nested loops
/// can multiply a template's output exponentially (fuzzing found a 1.5 KB template asking for 1.2 GB). Past a cap the
/// render fails with a `typeError` naming the line, as for a Python `MemoryError`, and the process keeps its memory.
/// No chat prompt comes near them: the longest context windows hold a few MB of text.
enum JinjaLimits {
  /// UTF-8 bytes of the rendered output and of any string the template builds (64 MiB).
  static let maxStringBytes = 1 << 26
  /// Items of any list the template builds.
  static let maxItems = 1 << 22

  static func exceeded(_ what: String, _ size: Int) -> JinjaRuntimeError {
    .type(
      "\(what) would take \(size) bytes, over this engine's limit of \(maxStringBytes) on strings a template builds")
  }

  /// Throws unless `count` copies of `unit` bytes fit in a string.
  static func checkString(_ what: String, unit: Int, count: Int) throws {
    let (bytes, overflow) = unit.multipliedReportingOverflow(by: max(count, 0))
    if overflow || bytes > maxStringBytes { throw exceeded(what, overflow ? Int.max : bytes) }
  }

  /// Throws unless strings of these sizes, joined by `separator` bytes, fit in one.
  static func checkJoin(_ what: String, sizes: [Int], separator: Int) throws {
    var total = separator * max(sizes.count - 1, 0)
    for size in sizes {
      total += size
      if total > maxStringBytes { throw exceeded(what, total) }
    }
  }

  /// Throws unless `s.replace(old, new, count)` fits (counting the occurrences only when the result grows).
  static func checkReplace(_ s: String, _ old: String, _ new: String, count: Int) throws {
    let growth = new.utf8.count - old.utf8.count
    guard growth > 0 else { return }
    let limit = count < 0 ? Int.max : count
    let occurrences =
      old.isEmpty
      ? min(limit, s.unicodeScalars.count + 1)
      : PythonString.occurrences(Array(s.utf8), Array(old.utf8), limit: limit).count
    let (extra, overflow) = growth.multipliedReportingOverflow(by: occurrences)
    if overflow || s.utf8.count + extra > maxStringBytes {
      throw exceeded("replace", overflow ? Int.max : s.utf8.count + extra)
    }
  }

  /// Throws unless `count` copies of `unit` items fit in a list.
  static func checkItems(_ what: String, unit: Int, count: Int) throws {
    let (items, overflow) = unit.multipliedReportingOverflow(by: max(count, 0))
    if overflow || items > maxItems {
      throw JinjaRuntimeError.type(
        "\(what) would hold \(overflow ? Int.max : items) items, over this engine's limit of \(maxItems)")
    }
  }
}
