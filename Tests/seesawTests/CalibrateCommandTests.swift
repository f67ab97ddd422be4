import SeesawSim
import Testing

@testable import seesaw

/// `seesaw calibrate`'s arithmetic on measured step times, without a model run.
@Suite("calibrate's roofs")
struct CalibrateCommandTests {
  static let smol = ModelShapes.named["smollm2-135m"]!

  static func device(peak: Double, bandwidth: Double) -> DeviceSpec {
    var d = DeviceSpec(
      name: "cpu", peakFLOPS: peak, memoryBandwidth: bandwidth, memoryBytes: 24e9, linkBandwidth: 3e9,
      linkLatency: 0, hostBandwidth: bandwidth / 2, hostMemoryBytes: 24e9)
    d.weightBytesPerParam = 0.75
    d.valueBytes = 4
    return d
  }

  @Test("roofs measured at half the machine's are raised to what its steps reached, and steps within them keep them")
  func stepsRaiseLowRoofs() {
    let probe = StepProbe(config: Self.smol, promptLength: 64, steps: [1, 16, 1024])
    let machine = Self.device(peak: 480e9, bandwidth: 40e9)
    // Steps as the machine runs them at its roofs: decode at the memory's pace, prefill at the FMAs'.
    let seconds = Dictionary(
      uniqueKeysWithValues: [1, 16, 1024].map { tokens in
        let roof = probe.roofSeconds(device: machine, tokens: tokens)
        return (tokens, max(roof.compute, roof.memory))
      })
    let measured = Self.device(peak: 240e9, bandwidth: 20e9)
    let raised = CalibrateCommand.raisingRoofs(measured, probe: probe, layerSeconds: seconds)
    #expect(abs(raised.peakFLOPS / 480e9 - 1) < 1e-9, "\(raised.peakFLOPS)")
    #expect(abs(raised.memoryBandwidth / 40e9 - 1) < 1e-9, "\(raised.memoryBandwidth)")
    #expect(raised.hostBandwidth == raised.memoryBandwidth / 2)
    // Each step now fits at an efficiency of at most 1, the fastest exactly at 1.
    let efficiency = probe.efficiency(device: raised, tokens: 1024, matching: seconds[1024]!, samples: false)
    #expect(abs(efficiency - 1) < 1e-6)
    // Steps slower than the roofs leave them as measured.
    let slow = seconds.mapValues { $0 * 3 }
    #expect(CalibrateCommand.raisingRoofs(machine, probe: probe, layerSeconds: slow) == machine)
  }
}
