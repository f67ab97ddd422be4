import ArgumentParser
import Foundation
import SeesawModel
import SeesawTensor

/// `--model`, shared by every command that loads a model.
struct ModelOptions: ParsableArguments {
  /// Where set-up puts the default model (SmolLM2-135M-Instruct, Q4_1 GGUF), relative to the repository.
  static let defaultModelRelativePath = ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"

  @Option(
    name: .long,
    help:
      "A .gguf file or a Hugging Face directory (config.json + *.safetensors). Default: $SEESAW_MODEL, else the SmolLM2-135M file that set-up caches in .cache/models."
  )
  var model: String?

  @Option(
    help:
      "Arithmetic of the linear layers: f32 (default, exact), bf16 or int8 (faster, approximate; drift measured with `seesaw perplexity`)."
  )
  var precision: ComputePrecision = .f32

  @Option(help: "Threads that run kernels (default: $SEESAW_NUM_THREADS, else the number of cores).")
  var threads: Int?

  /// The model path the user named, or the default one if it exists.
  func resolvedPath() throws -> String {
    if let model { return model }
    if let env = ProcessInfo.processInfo.environment["SEESAW_MODEL"], !env.isEmpty { return env }
    let executableDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
      .deletingLastPathComponent()
    var candidates = [FileManager.default.currentDirectoryPath]
    // .build/<triple>/release/seesaw -> repository root is three or four levels up.
    var dir = executableDir
    for _ in 0..<4 {
      dir = dir.deletingLastPathComponent()
      candidates.append(dir.path)
    }
    for root in candidates {
      let path = (root as NSString).appendingPathComponent(Self.defaultModelRelativePath)
      if FileManager.default.fileExists(atPath: path) { return path }
    }
    throw ValidationError(
      "no --model given and the default model is not cached at \(Self.defaultModelRelativePath); run `make setup`")
  }

  /// The CPU backend the flags ask for; sizes the kernel thread pool first.
  func makeBackend(linearKernel: Matmul.Kernel = .simd) throws -> Backend {
    if let threads {
      guard threads > 0 else { throw ValidationError("--threads must be positive, not \(threads)") }
      ParallelFor.setNumThreads(threads)
    }
    guard precision.isAvailable else {
      throw ValidationError(
        "--precision \(precision.rawValue): this CPU lacks the instructions (bf16: AVX-512 BF16; int8: VNNI or AVX2)")
    }
    return CPUBackend(linearKernel: linearKernel, precision: precision)
  }

  func load(linearKernel: Matmul.Kernel = .simd) throws -> (ModelFiles, LlamaModel) {
    let backend = try makeBackend(linearKernel: linearKernel)
    let path = try resolvedPath()
    let files = try ModelFiles(path: path)
    return (files, try files.loadModel(backend: backend))
  }
}

/// Prints an error the way every command does and exits non-zero.
func fail(_ error: Error) -> Never {
  let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
  FileHandle.standardError.write(Data("error: \(message)\n".utf8))
  MPIWorld.abort(reason: message)
  exit(1)
}

extension ComputePrecision: ExpressibleByArgument {}
