// swift-tools-version:6.0
import Foundation
import PackageDescription

// libFuzzer harnesses for Seesaw's readers of untrusted bytes, in a package of their own so that the main package's
// builds and tests never see them. scripts/fuzz.sh builds them (`-Xswiftc -sanitize=fuzzer,address`, in .build-fuzz)
// and runs them; each executable's main.swift hands one input callback to libFuzzer (`runFuzzer`).
//
// A new harness is one file, Sources/Fuzz<Name>/main.swift, and one `fuzzTarget` line below; seeds go in
// corpus/Fuzz<Name>/.

/// The root package's identity: a path dependency is named after its directory (a worktree need not be "Seesaw").
let seesaw = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

/// A harness executable that links FuzzSupport and the named libraries of the root package.
func fuzzTarget(_ name: String, _ libraries: [String]) -> Target {
  .executableTarget(
    name: name, dependencies: ["FuzzSupport"] + libraries.map { .product(name: $0, package: seesaw) })
}

let package = Package(
  name: "SeesawFuzz",
  platforms: [.macOS(.v14)],
  dependencies: [.package(path: "..")],
  targets: [
    .target(name: "CLibFuzzer"),
    .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"]),
    fuzzTarget("FuzzGGUF", ["SeesawModel", "SeesawTokenizer"]),
    fuzzTarget("FuzzSafetensors", ["SeesawModel"]),
    fuzzTarget("FuzzTokenizerJSON", ["SeesawTokenizer"]),
    fuzzTarget("FuzzChatTemplate", ["SeesawTokenizer"]),
    fuzzTarget("FuzzBatchRequest", ["SeesawBatch"]),
  ],
  swiftLanguageModes: [.v5]
)
