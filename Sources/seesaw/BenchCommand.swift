import ArgumentParser

/// `seesaw bench ...`: benchmarks (commands, never timed tests).
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench", abstract: "Benchmarks.", subcommands: [BenchForwardCommand.self])
}

struct BenchForwardCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "forward", abstract: "Forward-pass throughput.")
  func run() throws {}
}
