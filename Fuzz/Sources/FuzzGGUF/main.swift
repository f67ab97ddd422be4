import FuzzSupport
import SeesawModel
import SeesawTokenizer

/// GGUF header, metadata and tensor descriptors (`GGUFFile`), then what the engine reads from them: the model
/// config and the embedded tokenizer. Every tensor's first and last byte is read, so an address sanitizer flags a
/// descriptor that points outside the file.
runFuzzer { data, size in
  fuzzInput(data, size) { bytes in
    let gguf = try GGUFFile(file: MappedFile(copying: bytes, path: "fuzz.gguf"))
    var checksum: UInt8 = 0
    for tensor in gguf.tensors.values where tensor.numRows * tensor.rowBytes > 0 {
      let byteCount = tensor.numRows * tensor.rowBytes
      checksum ^= tensor.bytes.load(as: UInt8.self) ^ tensor.bytes.load(fromByteOffset: byteCount - 1, as: UInt8.self)
    }
    blackHole(checksum)
    _ = try? ModelConfig(gguf: gguf)
    let vocabulary = try GGUFVocabulary(metadata: gguf.metadata.mapValues(\.plain), path: gguf.path)
    let tokenizer = try Tokenizer(gguf: vocabulary, path: gguf.path)
    blackHole(tokenizer.decode(tokenizer.encode(fuzzSampleText)).count)
  }
}
