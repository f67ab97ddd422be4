import ArgumentParser
import Foundation
import SeesawModel
import SeesawTensor

/// `seesaw convert`: a GGUF (or HF directory) to a Hugging Face directory with f32 or bf16 weights.
struct ConvertCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convert",
    abstract: "Write a model as a Hugging Face directory (config.json + model.safetensors, f32 or bf16).",
    discussion: "Only the weights: copy tokenizer.json (and tokenizer_config.json) next to them for a complete model.")

  /// The stored type of the written tensors.
  enum OutputDType: String, ExpressibleByArgument, CaseIterable {
    case f32, bf16

    var dtype: DType { self == .f32 ? .f32 : .bf16 }
  }

  @OptionGroup var modelOptions: ModelOptions

  @Option(name: .shortAndLong, help: "Directory to write.")
  var output: String

  @Option(help: "Stored type of the weights: f32 or bf16 (rounded to nearest even).")
  var dtype: OutputDType = .f32

  func run() throws {
    do {
      let files = try ModelFiles(path: try modelOptions.resolvedPath())
      try HFExport.write(files, to: output, dtype: dtype.dtype)
      print("wrote \(output) (\(dtype.rawValue))")
    } catch let error as ValidationError {
      throw error
    } catch {
      fail(error)
    }
  }
}
