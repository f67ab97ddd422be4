/// The Unicode classes that tokenizer split patterns use (`\p{L}`, `\p{N}`, `\s`), with an ASCII fast path.
enum CharacterClass {
  /// Bit flags per ASCII scalar: 1 letter, 2 number, 4 whitespace.
  private static let ascii: [UInt8] = (0..<128).map { v in
    let s = Unicode.Scalar(UInt8(v))
    return (isLetterSlow(s) ? 1 : 0) | (isNumberSlow(s) ? 2 : 0) | (s.properties.isWhitespace ? 4 : 0)
  }

  @inline(__always) static func isLetter(_ s: Unicode.Scalar) -> Bool {
    s.value < 128 ? ascii[Int(s.value)] & 1 != 0 : isLetterSlow(s)
  }

  @inline(__always) static func isNumber(_ s: Unicode.Scalar) -> Bool {
    s.value < 128 ? ascii[Int(s.value)] & 2 != 0 : isNumberSlow(s)
  }

  /// `\s`: the White_Space property, as Oniguruma and Rust's regex use for Unicode `\s`.
  @inline(__always) static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
    s.value < 128 ? ascii[Int(s.value)] & 4 != 0 : s.properties.isWhitespace
  }

  @inline(__always) static func isNewline(_ s: Unicode.Scalar) -> Bool { s == "\n" || s == "\r" }

  /// Neither whitespace, letter nor number: `[^\s\p{L}\p{N}]`.
  @inline(__always) static func isOther(_ s: Unicode.Scalar) -> Bool {
    if s.value < 128 { return ascii[Int(s.value)] == 0 }
    return !s.properties.isWhitespace && !isLetterSlow(s) && !isNumberSlow(s)
  }

  static func isLetterSlow(_ s: Unicode.Scalar) -> Bool {
    switch s.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
    default: return false
    }
  }

  static func isNumberSlow(_ s: Unicode.Scalar) -> Bool {
    switch s.properties.generalCategory {
    case .decimalNumber, .letterNumber, .otherNumber: return true
    default: return false
    }
  }
}
