/// Keeps a computed value alive so the optimizer cannot drop the work that made it.
@inline(never)
public func blackHole<T>(_ value: T) {
  withExtendedLifetime(value) {}
}

/// Text that fuzzed tokenizers encode and decode: ASCII words, digits, spaces and newlines, accents, CJK, an emoji,
/// a byte-order mark and the usual special-token spellings.
public let fuzzSampleText = "Hello, world! 12345  tabs\tand\nnewlines héllo 日本語 🦙 \u{FEFF} <s></s><|im_start|>user"
