/// What one stage of one micro-batch costs its tensor-parallel devices: seconds of compute (at the speed the
/// device has alone) and seconds waiting on links.
public struct StageCost: Sendable, Equatable {
  public var compute: Double
  public var communication: Double
}

/// Micro-batches through pipeline stages: stage s starts micro-batch i when it has finished i - 1 and stage s - 1
/// has finished i (GPipe's schedule within a step; the engine's steps are synchronous).
struct PipelineSchedule {
  /// [microBatch][stage].
  var costs: [[StageCost]]
  var devicesPerStage: Int

  /// Devices of their own (GPUs): each stage's time is its compute plus its communication.
  var dedicatedSeconds: Double {
    guard let stages = costs.first?.count, stages > 0 else { return 0 }
    var finish = Array(repeating: Array(repeating: 0.0, count: stages), count: costs.count)
    for i in costs.indices {
      for s in 0..<stages {
        let ready = max(i > 0 ? finish[i - 1][s] : 0, s > 0 ? finish[i][s - 1] : 0)
        finish[i][s] = ready + costs[i][s].compute + costs[i][s].communication
      }
    }
    return finish.last!.last!
  }

  /// Devices that share one machine (in-process ranks on a CPU): while k devices compute, each computes
  /// `slowdown(k)` times slower than alone; waits on links take their own time and leave the machine to others.
  /// An event-driven run of the same schedule.
  func sharedSeconds(slowdown: (Int) -> Double) -> Double {
    guard let stages = costs.first?.count, stages > 0 else { return 0 }
    enum State {
      case waiting
      case computing(Double)
      case communicating(until: Double)
      case done
    }
    var state = costs.map { $0.map { _ in State.waiting } }
    func isDone(_ i: Int, _ s: Int) -> Bool { if case .done = state[i][s] { return true } else { return false } }
    var now = 0.0
    while !isDone(costs.count - 1, stages - 1) {
      // Start what is ready; finish what has nothing left.
      var changed = true
      while changed {
        changed = false
        for i in costs.indices {
          for s in 0..<stages {
            switch state[i][s] {
            case .waiting where (i == 0 || isDone(i - 1, s)) && (s == 0 || isDone(i, s - 1)):
              state[i][s] = .computing(costs[i][s].compute)
              changed = true
            case .computing(let left) where left <= 1e-15:
              state[i][s] = .communicating(until: now + costs[i][s].communication)
              changed = true
            case .communicating(let until) where until <= now + 1e-15:
              state[i][s] = .done
              changed = true
            default: break
            }
          }
        }
      }
      var computing = 0
      var next = Double.infinity
      for row in state {
        for task in row {
          if case .computing = task { computing += 1 }
          if case .communicating(let until) = task { next = min(next, until - now) }
        }
      }
      let factor = slowdown(computing * devicesPerStage)
      for row in state {
        for task in row { if case .computing(let left) = task { next = min(next, left * factor) } }
      }
      guard next.isFinite else { break }
      now += next
      for i in costs.indices {
        for s in 0..<stages {
          if case .computing(let left) = state[i][s] { state[i][s] = .computing(left - next / factor) }
        }
      }
    }
    return now
  }
}
