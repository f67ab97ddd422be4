/// Contiguous, as-even-as-possible splits of a count over parts (heads over tensor-parallel ranks, layers over
/// pipeline stages, matrix columns over ranks in whole quantization blocks).
public enum Partition {
  /// `count` items cut into `parts` contiguous ranges whose bounds are multiples of `unit` (the last range also
  /// takes a remainder smaller than `unit`). Earlier ranges get the extra units. Nil when there are fewer units than
  /// parts, so that some part would be empty.
  ///
  ///     even(10, parts: 3)           -> 0..<4, 4..<7, 7..<10
  ///     even(1536, parts: 4, unit: 32) -> 0..<384, 384..<768, 768..<1152, 1152..<1536
  public static func even(_ count: Int, parts: Int, unit: Int = 1) -> [Range<Int>]? {
    precondition(parts > 0 && unit > 0, "parts \(parts), unit \(unit)")
    let units = count / unit
    guard units >= parts else { return nil }
    var ranges: [Range<Int>] = []
    var start = 0
    for p in 0..<parts {
      let n = units / parts + (p < units % parts ? 1 : 0)
      let end = p == parts - 1 ? count : start + n * unit
      ranges.append(start..<end)
      start = end
    }
    return ranges
  }
}
