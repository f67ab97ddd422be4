import CSeesawKernels
import Testing

@testable import SeesawTensor

@Suite("Read probe")
struct ReadProbeTests {
  @Test("the probe's pass sums every element of whole lines of 64, on any offset")
  func passSums() {
    let n = 64 * 300
    let data = UnsafeMutablePointer<Float>.allocate(capacity: n + 16)
    defer { data.deallocate() }
    for i in 0..<(n + 16) { data[i] = Float(i % 7) }
    for offset in [0, 3, 16] {
      let expected = (offset..<(offset + n)).reduce(0) { $0 + Double($1 % 7) }
      #expect(Double(seesaw_read_probe(data + offset, n)) == expected)
    }
    #expect(seesaw_read_probe(data, 0) == 0)
  }

  @Test("samples between steps record each pass's bandwidth and the time they took")
  func samples() {
    let probe = ReadProbe(megabytes: 4)
    #expect(probe.meanGBps == nil)
    probe.sample()
    probe.sample()
    #expect(probe.samples.count == 2)
    #expect(probe.samples.allSatisfy { $0 > 0 && $0.isFinite })
    #expect(probe.seconds > 0)
    #expect(abs(probe.meanGBps! - (probe.samples[0] + probe.samples[1]) / 2) < 1e-9)
  }
}
