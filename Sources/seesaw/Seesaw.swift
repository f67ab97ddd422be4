import ArgumentParser

@main
struct Seesaw: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "seesaw",
    abstract: "High-throughput offline LLM inference.",
    subcommands: [
      GenerateCommand.self, RunBatchCommand.self, PerplexityCommand.self, TokenizeCommand.self, DetokenizeCommand.self,
      ConvertCommand.self,
      BenchCommand.self, SimulateCommand.self, PlanCommand.self, CalibrateCommand.self,
    ])
}
