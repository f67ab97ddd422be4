import Foundation
import SeesawEngine
import SeesawModel
import SeesawParallel

/// Per-rank compute and communication of a parallel run, for the bench report.
extension BenchThroughputCommand {
  static func json(_ r: RankReport, plan: PhasePlan) -> [String: Any] {
    let c = plan.prefill.coordinates(of: r.rank)
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
      "decode": phase(r.decode), "num_transitions": r.numTransitions, "transition_time": r.transitionSeconds,
      "swapped_bytes": r.swappedBytes, "swap_time": r.swapSeconds, "swap_overlapped_time": r.overlappedSwapSeconds,
      "compute_waited_on_swap_time": r.computeWaitedOnSwapSeconds,
    ]
  }

  /// One line per rank and phase: time split and bytes per step.
  static func rankTable(_ reports: [RankReport], plan: PhasePlan) -> String {
    let layout = plan.prefill
    var lines = [
      "Ranks (\(plan)): per step kind, seconds in steps = compute + communication (waiting included); bytes per step; coordinates in the \(layout) layout",
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
            100 * p.communication.seconds / max(p.stepSeconds, 1e-9),
            Double(p.communication.allReduceBytes) / steps / 1e3,
            Double(p.communication.sentBytes) / steps / 1e3))
      }
    }
    return lines.joined(separator: "\n")
  }

  /// Seesaw's part of the bench JSON: transitions, per-phase time, K/V moved, swap time.
  static func seesawJSON(_ c: SeesawCounters, metrics m: EngineMetrics, ranks: [RankReport], cost: ForwardCost)
    -> [String: Any]
  {
    let bytesPerToken = Int(cost.kvBytes(tokens: 1, context: 1))
    return [
      "num_transitions": m.numTransitions,
      "transition_time_max_rank": ranks.map(\.transitionSeconds).max() ?? 0,
      "prefill_phase_time": m.prefillPhaseSeconds, "decode_phase_time": m.decodePhaseSeconds,
      "swapped_out_bytes": c.swappedOutTokens * bytesPerToken, "swapped_in_bytes": c.swappedInTokens * bytesPerToken,
      "evicted_bytes": c.evictedTokens * bytesPerToken, "num_evictions": c.numEvictions,
      "num_host_blocks": c.numHostBlocks,
      // Per rank (the most of any): all K/V copying; swap-outs run behind the next micro-batch's forward pass;
      // what the steps waited: evictions and swap-ins (before the forward pass) plus swap-outs not done at its end.
      "swap_time": ranks.map(\.swapSeconds).max() ?? 0,
      "swap_overlapped_time": ranks.map { $0.overlappedSwapSeconds - $0.computeWaitedOnSwapSeconds }.max() ?? 0,
      "compute_waited_on_swap_time": ranks.map {
        $0.swapSeconds - $0.overlappedSwapSeconds + $0.computeWaitedOnSwapSeconds
      }
      .max() ?? 0,
    ]
  }

  static func seesawSummary(_ j: [String: Any]) -> String {
    String(
      format: """
        Seesaw: %d transitions (max %.3f s per rank in all), prefill phase %.1f s, decode phase %.1f s; K/V out %.1f MB, \
        in %.1f MB, evicted %.1f MB (%d evictions); K/V copies %.3f s, %.3f s of it behind compute, compute waited %.3f s
        """, j["num_transitions"] as! Int, j["transition_time_max_rank"] as! Double, j["prefill_phase_time"] as! Double,
      j["decode_phase_time"] as! Double, Double(j["swapped_out_bytes"] as! Int) / 1e6,
      Double(j["swapped_in_bytes"] as! Int) / 1e6, Double(j["evicted_bytes"] as! Int) / 1e6,
      j["num_evictions"] as! Int, j["swap_time"] as! Double, j["swap_overlapped_time"] as! Double,
      j["compute_waited_on_swap_time"] as! Double)
  }

  /// One JSON line per step.
  static func writeTimeline(_ records: [EngineMetrics.StepRecord], to path: String) {
    let lines = records.map { r -> String in
      String(
        format:
          #"{"start":%.4f,"seconds":%.4f,"phase":"%@","prompt_tokens":%d,"decode_tokens":%d,"swap_ins":%d,"swap_outs":%d,"evictions":%d,"transition_seconds":%.5f,"swap_seconds":%.5f}"#,
        r.start, r.seconds, r.phase.description, r.numPromptTokens, r.numDecodeTokens, r.numSwapIns, r.numSwapOuts,
        r.numEvictions, r.transitionSeconds, r.swapSeconds)
    }
    if !FileManager.default.createFile(atPath: path, contents: Data((lines.joined(separator: "\n") + "\n").utf8)) {
      FileHandle.standardError.write(Data("bench: cannot write \(path)\n".utf8))
    }
  }
}
