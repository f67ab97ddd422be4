import Foundation
import Testing

@testable import SeesawModel

/// Bad bytes must throw a `ModelFileError` naming the file (and tensor or field), never crash.
@Suite("Corrupt model files")
struct CorruptFileTests {
  /// Writes `bytes` to a scratch file and returns its path.
  static func write(_ bytes: Data, name: String) throws -> String {
    let dir = try Fixtures.temporaryDirectory()
    let path = dir.appendingPathComponent(name).path
    try bytes.write(to: URL(fileURLWithPath: path))
    return path
  }

  static func expectModelError(_ path: String, _ body: () throws -> Void) {
    do {
      try body()
      Issue.record("no error for \(path)")
    } catch let error as ModelFileError {
      #expect(error.errorDescription!.contains(path), "error does not name the file: \(error)")
    } catch {
      Issue.record("unexpected error type \(error)")
    }
  }

  @Test("a GGUF truncated anywhere throws instead of crashing")
  func truncatedGGUF() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tiny-llama-gqa-tied.gguf")))
    // Cuts inside the header, the metadata, the tensor infos and the tensor data.
    for length in [0, 3, 10, 23, 100, 700, 2000, 5000, data.count / 2, data.count - 1] {
      let path = try Self.write(data.prefix(length), name: "cut-\(length).gguf")
      Self.expectModelError(path) { _ = try ModelFiles(path: path).loadModel() }
    }
  }

  @Test("a GGUF header that lies about counts, sizes or offsets throws")
  func lyingGGUF() throws {
    let original = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tiny-llama-gqa-tied.gguf")))
    func patched(_ offset: Int, _ value: UInt64) -> Data {
      var d = original
      withUnsafeBytes(of: value.littleEndian) { d.replaceSubrange(offset..<(offset + 8), with: $0) }
      return d
    }
    let cases: [(String, Data)] = [
      ("tensor-count", patched(8, 1 << 40)),
      ("kv-count", patched(16, UInt64.max)),
      ("key-length", patched(24, 1 << 50)),
      (
        "bad-magic",
        {
          var d = original
          d[0] = 0x00
          return d
        }()
      ),
    ]
    for (name, bytes) in cases {
      let path = try Self.write(bytes, name: "\(name).gguf")
      Self.expectModelError(path) { _ = try ModelFiles(path: path).loadModel() }
    }
    // Every tensor offset pushed past the end of the file.
    let gguf = try GGUFFile(path: Fixtures.path("tiny-llama-gqa-tied.gguf"))
    let lastName = gguf.tensorNames.last!
    let nameBytes = Data(lastName.utf8)
    let range = try #require(original.range(of: nameBytes, options: .backwards))
    let dims = gguf.tensors[lastName]!.shape.count
    let offsetField = range.upperBound + 4 + 8 * dims + 4
    let path = try Self.write(patched(offsetField, UInt64(original.count) * 2), name: "offset.gguf")
    Self.expectModelError(path) { _ = try GGUFFile(path: path) }
  }

  @Test("safetensors truncated or with lying offsets throw, naming file and tensor")
  func badSafetensors() throws {
    let source = Fixtures.path("tiny-llama-gqa-tied/model.safetensors")
    let data = try Data(contentsOf: URL(fileURLWithPath: source))
    for length in [0, 5, 8, 60, data.count - 1] {
      let path = try Self.write(data.prefix(length), name: "model-cut-\(length).safetensors")
      Self.expectModelError(path) { _ = try SafetensorsFile(path: path) }
    }
    // A header length beyond the file, and a tensor whose byte range disagrees with its shape.
    var huge = data
    withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { huge.replaceSubrange(0..<8, with: $0) }
    let hugePath = try Self.write(huge, name: "huge.safetensors")
    Self.expectModelError(hugePath) { _ = try SafetensorsFile(path: hugePath) }

    let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    var header = String(decoding: data[8..<(8 + headerLength)], as: UTF8.self)
    let shapeRange = try #require(header.range(of: "\"shape\":[64]"))
    header.replaceSubrange(shapeRange, with: "\"shape\":[65]")
    var lying = Data(data.prefix(8))
    lying.append(Data(header.utf8))
    lying.append(data[(8 + headerLength)...])
    let lyingPath = try Self.write(lying, name: "lying.safetensors")
    do {
      _ = try SafetensorsFile(path: lyingPath)
      Issue.record("no error for a shape that disagrees with data_offsets")
    } catch let error as ModelFileError {
      #expect(error.errorDescription!.contains("lying.safetensors") && error.errorDescription!.contains("data_offsets"))
    }
  }

  @Test("missing files, unsupported architectures and dtypes get clear errors")
  func unsupported() throws {
    Self.expectModelError("/nonexistent/model.gguf") { _ = try ModelFiles(path: "/nonexistent/model.gguf") }
    let dir = try Fixtures.temporaryDirectory()
    let config = """
      {"model_type": "gpt_neox", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1,
       "num_attention_heads": 4, "vocab_size": 10}
      """
    try Data(config.utf8).write(to: dir.appendingPathComponent("config.json"))
    Self.expectModelError(dir.path) { _ = try ModelFiles(path: dir.path) }
    // An F64 tensor in safetensors.
    let header = #"{"x": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}}"#
    var bytes = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(Data(header.utf8))
    bytes.append(Data(count: 8))
    let f64 = try Self.write(bytes, name: "f64.safetensors")
    do {
      _ = try SafetensorsFile(path: f64)
      Issue.record("F64 accepted")
    } catch let error as ModelFileError {
      #expect(error == .unsupportedDType(path: f64, tensor: "x", dtype: "F64"))
    }
  }
}

extension CorruptFileTests {
  @Test("random byte flips in GGUF and safetensors headers load or throw, never crash")
  func byteFlips() throws {
    var state: UInt64 = 0x5EE5_A3
    func next(_ bound: Int) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int((state >> 33) % UInt64(bound))
    }
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let gguf = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tiny-llama-gqa-tied.gguf")))
    let headerEnd = 4200  // metadata (incl. the tiny tokenizer) and tensor infos
    var outcomes = [0, 0]
    for trial in 0..<150 {
      var bytes = gguf
      for _ in 0..<(1 + next(3)) { bytes[next(min(headerEnd, bytes.count))] = UInt8(next(256)) }
      let path = dir.appendingPathComponent("flip-\(trial).gguf").path
      try bytes.write(to: URL(fileURLWithPath: path))
      do {
        _ = try ModelFiles(path: path).loadModel()
        outcomes[0] += 1
      } catch is ModelFileError {
        outcomes[1] += 1
      }
    }
    #expect(outcomes[1] > 0, "no flip was detected: \(outcomes)")
    let safetensors = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tiny-llama-gqa-tied/model.safetensors")))
    for trial in 0..<100 {
      var bytes = safetensors
      bytes[next(min(2000, bytes.count))] = UInt8(next(256))
      let path = dir.appendingPathComponent("flip-\(trial).safetensors").path
      try bytes.write(to: URL(fileURLWithPath: path))
      do { _ = try SafetensorsFile(path: path) } catch is ModelFileError {}
    }
  }

  @Test("safetensors sizes and offsets that overflow Int throw, naming the field")
  func overflowingSafetensors() throws {
    func header(_ json: String) -> Data {
      var bytes = Data()
      withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
      return bytes + Data(json.utf8)
    }
    let cases = [
      // 4 * (2^31 - 1)^2 bytes: the element count fits in Int, the byte count does not.
      ("t.shape", #"{"t": {"dtype": "F32", "shape": [2147483647, 2147483647], "data_offsets": [0, 0]}}"#),
      // An empty tensor that begins Int.max bytes into the data.
      (
        "t.data_offsets",
        #"{"t": {"dtype": "F32", "shape": [0], "data_offsets": [9223372036854775807, 9223372036854775807]}}"#
      ),
    ]
    for (field, json) in cases {
      let bytes = header(json)
      #expect {
        _ = try bytes.withUnsafeBytes { try SafetensorsFile(file: MappedFile(copying: $0, path: "fuzz.safetensors")) }
      } throws: { error in
        guard case .invalidHeader(path: "fuzz.safetensors", let named, _) = error as? ModelFileError else {
          return false
        }
        return named == field
      }
    }
  }
}
