import Foundation

/// What an existing output file already answers, so that a rerun appends only the rest.
///
/// Output lines are matched to input lines by custom_id and occurrence: the k-th output line with custom_id X
/// answers the k-th input line with X (lines without a readable custom_id, like bad JSON, have the key nil). This
/// keeps the error lines of duplicate ids and of unreadable lines matched without running anything twice.
///
///     existing:  {"custom_id":"a",…}\n {"custom_id":"zz",…}\n {"custom_id":"b",…}\n {"custom_id":"c","respo
///                kept                  dropped: not in input  kept                  torn tail: dropped
///
/// A last line without its newline (a run killed mid-write) is torn and dropped, as is any line that is not a JSON
/// object with a `custom_id` or that matches no remaining input line.
public struct BatchResume: Equatable {
  /// The bytes of the kept lines, in their order, each with its newline.
  public var kept: Data
  /// `kept` is a prefix of the existing bytes (then truncating the file to `kept.count` is enough).
  public var isPrefix: Bool
  /// Per input line: an output line answers it already.
  public var answered: [Bool]
  public var numKept: Int
  /// Complete lines dropped (not JSON, no custom_id, or no input line left for them).
  public var numDropped: Int
  /// The last line had no newline and was dropped.
  public var tornTail: Bool

  /// `keys`: per input line, its custom_id (nil where the line has none that can be read).
  public init(existing: Data, keys: [String?]) {
    var remaining: [String?: Int] = [:]
    for key in keys { remaining[key, default: 0] += 1 }
    var used: [String?: Int] = [:]
    var lines = existing.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    // After the last newline: "" for a complete file, otherwise the torn tail.
    let tail = lines.removeLast()
    tornTail = !tail.isEmpty
    kept = Data()
    numKept = 0
    numDropped = 0
    isPrefix = true
    for line in lines {
      if let object = JSONFields.parse(Data(line)), let rawID = object["custom_id"], rawID is NSNull || rawID is String
      {
        let key = rawID as? String
        if remaining[key, default: 0] > 0 {
          remaining[key]! -= 1
          used[key, default: 0] += 1
          if numDropped > 0 { isPrefix = false }
          kept.append(contentsOf: line)
          kept.append(UInt8(ascii: "\n"))
          numKept += 1
          continue
        }
      }
      numDropped += 1
    }
    var seen: [String?: Int] = [:]
    answered = keys.map { key in
      defer { seen[key, default: 0] += 1 }
      return seen[key, default: 0] < used[key, default: 0]
    }
  }
}
