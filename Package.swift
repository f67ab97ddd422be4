// swift-tools-version:6.0
import PackageDescription

// Release builds compile for the host's vector ISA (AVX-512 on the development machines) without flags from the
// user: the numeric kernels are written with SIMD types and rely on the compiler to emit the widest registers.
let hostISA: [SwiftSetting] = [
  .unsafeFlags(["-target-cpu", "native", "-Ounchecked"], .when(configuration: .release))
]

let package = Package(
  name: "Seesaw",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "seesaw", targets: ["seesaw"]),
    .library(name: "SeesawModel", targets: ["SeesawModel"]),
    .library(name: "SeesawTensor", targets: ["SeesawTensor"]),
    .library(name: "SeesawTokenizer", targets: ["SeesawTokenizer"]),
    .library(name: "SeesawEngine", targets: ["SeesawEngine"]),
    .library(name: "SeesawParallel", targets: ["SeesawParallel"]),
    .library(name: "SeesawBatch", targets: ["SeesawBatch"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    // Debian's libopenblas-dev (cblas.h, libopenblas.so).
    .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", providers: [.apt(["libopenblas-dev"])]),
    // Debian's libdnnl-dev (oneDNN: dnnl_sgemm, a JIT AVX-512 GEMM for products of many rows; libgomp under it).
    .systemLibrary(name: "CDNNL", path: "Sources/CDNNL", providers: [.apt(["libdnnl-dev"])]),
    // Probes and kernels for AVX-512 BF16 / VNNI instructions, which Swift's SIMD types do not reach.
    .target(name: "CSeesawKernels", cSettings: [.unsafeFlags(["-O2", "-ffp-contract=off"])]),
    .target(name: "SeesawTensor", dependencies: ["CBLAS", "CDNNL", "CSeesawKernels"], swiftSettings: hostISA),
    // Debian's libopenmpi-dev (mpi.h, libmpi.so), located by pkg-config; the processes of a multi-node run.
    .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi", providers: [.apt(["libopenmpi-dev"])]),
    .target(name: "SeesawParallel", dependencies: ["CMPI"], swiftSettings: hostISA),
    .target(name: "SeesawModel", dependencies: ["SeesawTensor", "SeesawParallel"], swiftSettings: hostISA),
    // Hardware catalog, model shapes and the cost model of simulated runs (no kernels).
    .target(name: "SeesawSim", dependencies: ["SeesawModel", "SeesawParallel"], swiftSettings: hostISA),
    .target(name: "SeesawTokenizer", swiftSettings: hostISA),
    .target(
      name: "SeesawEngine",
      dependencies: ["SeesawModel", "SeesawTokenizer", "SeesawTensor", "SeesawParallel", "SeesawSim"],
      swiftSettings: hostISA),
    // OpenAI Batch API lines: request parsing and response formatting, pure (no engine state, no files).
    .target(name: "SeesawBatch", dependencies: ["SeesawEngine", "SeesawTokenizer"], swiftSettings: hostISA),
    .executableTarget(
      name: "seesaw",
      dependencies: [
        "SeesawBatch", "SeesawEngine", "SeesawModel", "SeesawTensor", "SeesawTokenizer", "SeesawParallel", "SeesawSim",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: hostISA),
    // Checks MPICommunicator on the ranks of an mpirun job; SeesawParallelTests launch it.
    .executableTarget(name: "seesaw-mpi-selftest", dependencies: ["SeesawParallel"], swiftSettings: hostISA),
    .testTarget(name: "SeesawTensorTests", dependencies: ["SeesawTensor"], swiftSettings: hostISA),
    .testTarget(name: "SeesawParallelTests", dependencies: ["SeesawParallel"], swiftSettings: hostISA),
    .testTarget(name: "SeesawModelTests", dependencies: ["SeesawModel", "SeesawParallel"], swiftSettings: hostISA),
    .testTarget(name: "SeesawTokenizerTests", dependencies: ["SeesawTokenizer", "SeesawModel"], swiftSettings: hostISA),
    .testTarget(name: "SeesawEngineTests", dependencies: ["SeesawEngine", "SeesawParallel", "SeesawSim"], swiftSettings: hostISA),
    .testTarget(name: "seesawTests", dependencies: ["seesaw", "SeesawBatch"], swiftSettings: hostISA),
  ],
  swiftLanguageModes: [.v5]
)
