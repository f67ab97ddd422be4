import FuzzSupport
import SeesawModel

/// A `.safetensors` file: the header length, the JSON header and the tensors' data offsets (`SafetensorsFile`).
/// Every tensor's first and last byte is read, so an address sanitizer flags an entry that points outside the file.
runFuzzer { data, size in
  fuzzInput(data, size) { bytes in
    let file = try SafetensorsFile(file: MappedFile(copying: bytes, path: "fuzz.safetensors"))
    var checksum: UInt8 = 0
    for tensor in file.tensors.values where tensor.numRows * tensor.rowBytes > 0 {
      let byteCount = tensor.numRows * tensor.rowBytes
      checksum ^= tensor.bytes.load(as: UInt8.self) ^ tensor.bytes.load(fromByteOffset: byteCount - 1, as: UInt8.self)
    }
    blackHole(checksum)
  }
}
