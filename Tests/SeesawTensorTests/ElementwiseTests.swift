import Foundation
import Testing

@testable import SeesawTensor

@Suite("Elementwise kernels")
struct ElementwiseTests {
  @Test("RMSNorm scales each row to unit root-mean-square before the weight")
  func rmsNorm() {
    let x = randomFloats(3 * 40, seed: 5)
    let w = randomFloats(40, seed: 6)
    let y = Tensor(zeros: [3, 40])
    CPUBackend().rmsNorm(Tensor(x, shape: [3, 40]), weight: Tensor(w, shape: [40]), eps: 1e-5, into: y)
    for r in 0..<3 {
      let row = x[(r * 40)..<(r * 40 + 40)]
      let rms = (row.map { Double($0 * $0) }.reduce(0, +) / 40 + 1e-5).squareRoot()
      for i in 0..<40 {
        #expect(abs(Double(y.data[r * 40 + i]) - Double(row[r * 40 + i]) / rms * Double(w[i])) < 1e-5)
      }
    }
  }

  // 130 rows of 576: split over the cores in chunks of rows.
  @Test("a residual add fused with the next RMSNorm gives the bits of the add followed by the norm")
  func addRMSNorm() {
    let (rows, dim) = (130, 576)
    let x = randomFloats(rows * dim, seed: 11)
    let delta = Tensor(randomFloats(rows * dim, seed: 12), shape: [rows, dim])
    let w = Tensor(randomFloats(dim, seed: 13), shape: [dim])
    let (fused, fusedNormed) = (Tensor(x, shape: [rows, dim]), Tensor(zeros: [rows, dim]))
    let (apart, apartNormed) = (Tensor(x, shape: [rows, dim]), Tensor(zeros: [rows, dim]))
    let backend = CPUBackend()
    backend.addRMSNorm(fused, delta, weight: w, eps: 1e-5, into: fusedNormed)
    backend.add(apart, delta)
    backend.rmsNorm(apart, weight: w, eps: 1e-5, into: apartNormed)
    #expect(fused.toArray() == apart.toArray())
    #expect(fusedNormed.toArray() == apartNormed.toArray())
    #expect(fused.toArray() != x)
  }

  @Test("rotary embedding rotates element i with element i + headDim/2")
  func rope() {
    let (t, h, d) = (2, 3, 8)
    let x = randomFloats(t * h * d, seed: 7)
    let angles = randomFloats(t * d / 2, seed: 8).map { $0 * 3 }
    let tensor = Tensor(x, shape: [t, h * d])
    CPUBackend().rope(
      tensor, numHeads: h, cos: Tensor(angles.map { Foundation.cos($0) }, shape: [t, d / 2]),
      sin: Tensor(angles.map { Foundation.sin($0) }, shape: [t, d / 2]))
    for tok in 0..<t {
      for head in 0..<h {
        for i in 0..<(d / 2) {
          let base = (tok * h + head) * d
          let a = angles[tok * d / 2 + i]
          let (x1, x2) = (x[base + i], x[base + i + d / 2])
          #expect(abs(tensor.data[base + i] - (x1 * Foundation.cos(a) - x2 * Foundation.sin(a))) < 1e-6)
          #expect(abs(tensor.data[base + i + d / 2] - (x2 * Foundation.cos(a) + x1 * Foundation.sin(a))) < 1e-6)
        }
      }
    }
  }

  @Test("SiLU times up matches the formula, and argmax takes the first maximum")
  func siluAndArgmax() {
    // 50 = three 16-lane vectors and a scalar tail; the ends reach the cap and exp's overflow.
    let g = randomFloats(48, seed: 9).map { $0 * 6 } + [-100, 100]
    let u = randomFloats(50, seed: 10)
    let gate = Tensor(g, shape: [50])
    CPUBackend().siluMul(gate, Tensor(u, shape: [50]))
    for i in 0..<50 {
      let expected = Double(g[i]) / (1 + Foundation.exp(-Double(g[i]))) * Double(u[i])
      #expect(abs(Double(gate.data[i]) - expected) <= 1e-6 * abs(expected) + 1e-30, "element \(i): \(g[i])")
    }
    let ends: [Float] = [-100, -90, -88, -87.5, -20, -1e-3, 0, 1e-3, 20, 88, 100] + Array(repeating: 0, count: 5)
    let endGate = Tensor(ends, shape: [16])
    CPUBackend().siluMul(endGate, Tensor([Float](repeating: 1, count: 16), shape: [16]))
    for i in 0..<16 {
      let expected = Double(ends[i]) / (1 + Foundation.exp(-Double(ends[i])))
      #expect(abs(Double(endGate.data[i]) - expected) <= 1e-6 * abs(expected) + 1e-30, "silu(\(ends[i]))")
    }
    let values: [Float] = [1, 5, 2, 5, -1]
    #expect(values.withUnsafeBufferPointer { Elementwise.argmax($0.baseAddress!, count: 5) } == 1)
  }
}
