/// GPT-2's reversible map between bytes and printable Unicode characters, used by byte-level BPE vocabularies:
/// printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100 and up, so that every byte string is a
/// string of visible characters (a space becomes "Ġ", a newline "Ċ").
public enum ByteLevel {
  /// byteToScalar[b] is the character that stands for byte b.
  public static let byteToScalar: [Unicode.Scalar] = {
    var table = [Unicode.Scalar](repeating: " ", count: 256)
    var next: UInt32 = 256
    for b in 0..<256 {
      let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
      if printable {
        table[b] = Unicode.Scalar(UInt32(b))!
      } else {
        table[b] = Unicode.Scalar(next)!
        next += 1
      }
    }
    return table
  }()

  /// The byte a character stands for, or nil for characters outside the map.
  public static func byte(for scalar: Unicode.Scalar) -> UInt8? {
    scalarToByte[scalar.value]
  }

  static let scalarToByte: [UInt32: UInt8] = {
    var map: [UInt32: UInt8] = [:]
    for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
    return map
  }()

  /// The byte-level spelling of `bytes` ("Ġhello" for " hello").
  public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    var s = String.UnicodeScalarView()
    for b in bytes { s.append(byteToScalar[Int(b)]) }
    return String(s)
  }

  /// The bytes a byte-level token spells; characters outside the map are kept as their own UTF-8 (as HF does).
  public static func decode(_ token: String, into bytes: inout [UInt8]) {
    for scalar in token.unicodeScalars {
      if let b = scalarToByte[scalar.value] {
        bytes.append(b)
      } else {
        bytes.append(contentsOf: Array(String(scalar).utf8))
      }
    }
  }
}
