import Foundation
import SeesawEngine
import SeesawParallel

/// Per-rank compute and communication of a parallel run, for the bench report.
extension BenchThroughputCommand {
  static func json(_ r: RankReport, layout: ParallelConfig) -> [String: Any] {
    let c = layout.coordinates(of: r.rank)
    func phase(_ p: RankReport.PhaseCounters) -> [String: Any] {
      [
        "num_steps": p.numSteps, "step_time": p.stepSeconds, "compute_time": p.computeSeconds,
        "communication_time": p.communication.seconds, "all_reduce_bytes": p.communication.allReduceBytes,
        "num_all_reduces": p.communication.numAllReduces, "sent_bytes": p.communication.sentBytes,
        "num_sends": p.communication.numSends,
      ]
    }
    return [
      "rank": r.rank, "replica": c.replica, "stage": c.stage, "tp_rank": c.tpRank, "prefill": phase(r.prefill),
      "decode": phase(r.decode),
    ]
  }

  /// One line per rank and phase: time split and bytes per step.
  static func rankTable(_ reports: [RankReport], layout: ParallelConfig) -> String {
    var lines = [
      "Ranks (\(layout)): per phase, seconds in steps = compute + communication (waiting included); bytes per step",
      "rank  dp pp tp  phase     steps   step s  compute s  comm s (share)  all-reduce KB/step  sent KB/step",
    ]
    for r in reports {
      let c = layout.coordinates(of: r.rank)
      for (name, p) in [("prefill", r.prefill), ("decode", r.decode)] where p.numSteps > 0 {
        let steps = Double(p.numSteps)
        lines.append(
          String(
            format: "%4d  %2d %2d %2d  %-7@ %7d %8.2f %10.2f %7.2f (%3.0f%%) %19.1f %13.1f", r.rank, c.replica, c.stage,
            c.tpRank, name, p.numSteps, p.stepSeconds, p.computeSeconds, p.communication.seconds,
            100 * p.communication.seconds / max(p.stepSeconds, 1e-9), Double(p.communication.allReduceBytes) / steps / 1e3,
            Double(p.communication.sentBytes) / steps / 1e3))
      }
    }
    return lines.joined(separator: "\n")
  }
}
