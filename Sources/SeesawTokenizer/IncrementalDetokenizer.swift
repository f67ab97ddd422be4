/// Streaming detokenization: feed ids one at a time, get text pieces whose concatenation equals
/// `decode(allIDs)` and that never end inside a UTF-8 sequence.
///
/// Each step decodes a short window of recent ids twice, with and without the new ones, and emits the difference
/// once it no longer ends in U+FFFD (an incomplete byte sequence). The window keeps context so that decoders which
/// treat the first token specially (SentencePiece's leading space) see the same neighbourhood as a full decode.
///
///     ids      ... | prefixOffset ...... readOffset | new
///     emitted      text(prefix..<read) is already out; text(prefix..<end) minus it is the new piece
public struct IncrementalDetokenizer {
  let tokenizer: Tokenizer
  let skipSpecialTokens: Bool
  private(set) var ids: [Int32] = []
  private var prefixOffset = 0
  private var readOffset = 0
  /// Unicode scalars emitted so far.
  private var numEmitted = 0

  public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = false) {
    self.tokenizer = tokenizer
    self.skipSpecialTokens = skipSpecialTokens
  }

  /// Adds one id; returns the text that became final ("" while a character is incomplete).
  public mutating func append(_ id: Int32) -> String {
    ids.append(id)
    let prefixText = tokenizer.decode(Array(ids[prefixOffset..<readOffset]), skipSpecialTokens: skipSpecialTokens)
    let newText = tokenizer.decode(Array(ids[prefixOffset...]), skipSpecialTokens: skipSpecialTokens)
    guard newText.unicodeScalars.count > prefixText.unicodeScalars.count, newText.unicodeScalars.last != "\u{FFFD}",
      newText.unicodeScalars.starts(with: prefixText.unicodeScalars)
    else { return "" }
    let piece = String(String.UnicodeScalarView(newText.unicodeScalars.dropFirst(prefixText.unicodeScalars.count)))
    prefixOffset = readOffset
    readOffset = ids.count
    numEmitted += piece.unicodeScalars.count
    return piece
  }

  /// Whatever is still held back (an incomplete sequence at the very end): the rest of a full decode.
  public mutating func finish() -> String {
    let full = tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens)
    prefixOffset = ids.count
    readOffset = ids.count
    let rest = String(String.UnicodeScalarView(full.unicodeScalars.dropFirst(numEmitted)))
    numEmitted += rest.unicodeScalars.count
    return rest
  }
}
