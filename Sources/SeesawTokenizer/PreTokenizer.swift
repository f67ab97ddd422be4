import Foundation

/// Splitting of a text segment into words before BPE (tokenizer.json's `pre_tokenizer`). Each step refines the
/// pieces of the previous one, as Hugging Face's PreTokenizedString does.
indirect enum PreTokenizer: Sendable {
  /// Byte-level: optionally a GPT-2-pattern split; the byte mapping itself happens in the model.
  case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
  /// A pattern split whose matches become pieces (`Isolated`), or are removed, or merge into a neighbour.
  case split(SplitPattern, behavior: Behavior)
  /// Digits split off, individually or as runs.
  case digits(individual: Bool)
  /// SentencePiece's: spaces become "▁", a "▁" is prepended, pieces start at each "▁" when `split`.
  case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme, split: Bool)
  case sequence([PreTokenizer])

  enum Behavior: String, Sendable {
    case isolated = "Isolated", removed = "Removed", mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
  }

  enum PrependScheme: String, Sendable {
    case first, always, never
  }

  /// Splits `text` (scalars, already normalized) into pieces; `isFirstSegment` is true for the segment at the
  /// start of the input (prepend scheme "first").
  func run(_ text: inout [Unicode.Scalar], pieces: inout [Range<Int>], isFirstSegment: Bool) {
    switch self {
    case .sequence(let steps):
      for step in steps { step.run(&text, pieces: &pieces, isFirstSegment: isFirstSegment) }
    case .byteLevel(let addPrefixSpace, let useRegex):
      if addPrefixSpace, let first = text.first, first != " " {
        text.insert(" ", at: 0)
        pieces = pieces.map { $0.lowerBound == 0 ? 0..<($0.upperBound + 1) : ($0.lowerBound + 1)..<($0.upperBound + 1) }
      }
      if useRegex { refine(text, &pieces, SplitPattern.gpt2, .isolated) }
    case .split(let pattern, let behavior):
      refine(text, &pieces, pattern, behavior)
    case .digits(let individual):
      var out: [Range<Int>] = []
      for piece in pieces {
        var i = piece.lowerBound
        while i < piece.upperBound {
          var k = i + 1
          let isDigit = CharacterClass.isNumber(text[i])
          if !isDigit || !individual {
            while k < piece.upperBound && CharacterClass.isNumber(text[k]) == isDigit { k += 1 }
          }
          out.append(i..<k)
          i = k
        }
      }
      pieces = out
    case .metaspace(let replacement, let scheme, let split):
      // Rewrite: spaces -> replacement, then prepend to the segment.
      var rewritten: [Unicode.Scalar] = []
      rewritten.reserveCapacity(text.count + 1)
      // As Hugging Face: spaces are replaced first, then "▁" is prepended unless the text now starts with one.
      let prepend = scheme == .always || (scheme == .first && isFirstSegment)
      let startsWithSpace = text.first == " " || text.first == replacement
      if prepend && !startsWithSpace { rewritten.append(replacement) }
      let shift = rewritten.count
      for s in text { rewritten.append(s == " " ? replacement : s) }
      text = rewritten
      pieces = pieces.map { ($0.lowerBound == 0 ? 0 : $0.lowerBound + shift)..<($0.upperBound + shift) }
      if split {
        var out: [Range<Int>] = []
        for piece in pieces {
          var start = piece.lowerBound
          for i in piece where i > piece.lowerBound && text[i] == replacement {
            out.append(start..<i)
            start = i
          }
          out.append(start..<piece.upperBound)
        }
        pieces = out
      }
    }
  }

  /// Applies a pattern to every piece with a split behaviour.
  private func refine(
    _ text: [Unicode.Scalar], _ pieces: inout [Range<Int>], _ pattern: SplitPattern, _ behavior: Behavior
  ) {
    var out: [Range<Int>] = []
    out.reserveCapacity(pieces.count * 2)
    var matches: [Range<Int>] = []
    text.withUnsafeBufferPointer { buffer in
      for piece in pieces where !piece.isEmpty {
        matches.removeAll(keepingCapacity: true)
        pattern.matches(buffer, piece, into: &matches)
        // Alternate gaps (not matched) and matches, then combine per behaviour.
        var parts: [(Range<Int>, Bool)] = []
        var cursor = piece.lowerBound
        for m in matches {
          if m.lowerBound > cursor { parts.append((cursor..<m.lowerBound, false)) }
          parts.append((m, true))
          cursor = m.upperBound
        }
        if cursor < piece.upperBound { parts.append((cursor..<piece.upperBound, false)) }
        switch behavior {
        case .isolated:
          out.append(contentsOf: parts.map(\.0))
        case .removed:
          out.append(contentsOf: parts.filter { !$0.1 }.map(\.0))
        case .mergedWithPrevious:
          for (r, isMatch) in parts {
            if isMatch, let last = out.last, last.upperBound == r.lowerBound, last.lowerBound >= piece.lowerBound {
              out[out.count - 1] = last.lowerBound..<r.upperBound
            } else {
              out.append(r)
            }
          }
        case .mergedWithNext:
          var pending: Range<Int>? = nil
          for (r, isMatch) in parts {
            if isMatch {
              if let p = pending { out.append(p) }
              pending = r
            } else if let p = pending {
              out.append(p.lowerBound..<r.upperBound)
              pending = nil
            } else {
              out.append(r)
            }
          }
          if let p = pending { out.append(p) }
        case .contiguous:
          var lastWasMatch = false
          for (r, isMatch) in parts {
            if isMatch && lastWasMatch, let last = out.last {
              out[out.count - 1] = last.lowerBound..<r.upperBound
            } else {
              out.append(r)
            }
            lastWasMatch = isMatch
          }
        }
      }
    }
    pieces = out
  }

  /// Parses a tokenizer.json pre_tokenizer object.
  init(json: [String: Any], path: String) throws {
    let type = json["type"] as? String ?? "(missing)"
    switch type {
    case "ByteLevel":
      self = .byteLevel(
        addPrefixSpace: json["add_prefix_space"] as? Bool ?? true, useRegex: json["use_regex"] as? Bool ?? true)
    case "Split":
      let patternJSON = json["pattern"] as? [String: Any] ?? [:]
      let source: String
      if let regex = patternJSON["Regex"] as? String {
        source = regex
      } else if let string = patternJSON["String"] as? String {
        source = NSRegularExpression.escapedPattern(for: string)
      } else {
        throw TokenizerError.invalidFile(path: path, field: "pre_tokenizer.Split.pattern", reason: "missing")
      }
      if json["invert"] as? Bool == true {
        throw TokenizerError.unsupported(path: path, field: "pre_tokenizer.Split.invert", value: "true")
      }
      let behaviorName = json["behavior"] as? String ?? "Isolated"
      guard let behavior = Behavior(rawValue: behaviorName) else {
        throw TokenizerError.unsupported(path: path, field: "pre_tokenizer.Split.behavior", value: behaviorName)
      }
      do {
        self = .split(try SplitPattern(source: source), behavior: behavior)
      } catch {
        throw TokenizerError.invalidFile(path: path, field: "pre_tokenizer.Split.pattern", reason: "\(error)")
      }
    case "Digits":
      self = .digits(individual: json["individual_digits"] as? Bool ?? false)
    case "Metaspace":
      let replacement = (json["replacement"] as? String)?.unicodeScalars.first ?? "▁"
      var scheme = PrependScheme(rawValue: json["prepend_scheme"] as? String ?? "always") ?? .always
      if json["prepend_scheme"] == nil, json["add_prefix_space"] as? Bool == false { scheme = .never }
      self = .metaspace(replacement: replacement, prependScheme: scheme, split: json["split"] as? Bool ?? true)
    case "Sequence":
      let steps = json["pretokenizers"] as? [[String: Any]] ?? []
      self = .sequence(try steps.map { try PreTokenizer(json: $0, path: path) })
    default:
      throw TokenizerError.unsupported(path: path, field: "pre_tokenizer", value: type)
    }
  }
}
