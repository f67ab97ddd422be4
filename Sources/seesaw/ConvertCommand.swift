import ArgumentParser
import Foundation
import SeesawModel

/// `seesaw convert`: a GGUF (or HF directory) to an f32 Hugging Face directory.
struct ConvertCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convert",
    abstract: "Write a model as a Hugging Face directory (config.json + f32 model.safetensors).")

  @OptionGroup var modelOptions: ModelOptions

  @Option(name: .shortAndLong, help: "Directory to write.")
  var output: String

  func run() throws {
    do {
      let files = try ModelFiles(path: try modelOptions.resolvedPath())
      try HFExport.write(files, to: output)
      print("wrote \(output)")
    } catch let error as ValidationError {
      throw error
    } catch {
      fail(error)
    }
  }
}
