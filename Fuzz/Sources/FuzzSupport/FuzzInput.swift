import CLibFuzzer

#if canImport(Glibc)
  import Glibc
#endif

/// libFuzzer's per-input callback: the bytes of one input; returns 0.
public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

/// Hands the process to libFuzzer (`LLVMFuzzerRunDriver`) with the command line's flags and corpus directories, and
/// exits with its status. SwiftPM gives every executable its own `main`, so harnesses call this from top-level code
/// instead of defining `LLVMFuzzerTestOneInput`:
///
///     runFuzzer { data, size in
///       fuzzInput(data, size) { bytes in _ = try Reader(bytes: Data(bytes)) }
///     }
public func runFuzzer(_ testOneInput: FuzzCallback) -> Never {
  var argc = CommandLine.argc
  var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
  exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}

/// Runs one fuzz input: `body` gets the bytes, and any error it throws is the expected outcome for bad input
/// (readers must throw, never trap). Returns libFuzzer's "keep going" code.
public func fuzzInput(
  _ data: UnsafePointer<UInt8>?, _ size: Int, _ body: (UnsafeRawBufferPointer) throws -> Void
) -> Int32 {
  do {
    try body(UnsafeRawBufferPointer(start: size > 0 ? data : nil, count: size))
  } catch {
    // A thrown error is a clean rejection of the input.
  }
  return 0
}
