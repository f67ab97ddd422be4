import Testing

@testable import SeesawTensor

@Suite("Resident weight copies")
struct WeightMatrixResidentTests {
  @Test("a resident copy of a column slice holds the same rows, compact, in an arena chunk", arguments: [DType.bf16, .f32])
  func copiesSlices(dtype: DType) {
    let (rows, cols) = (37, 96)
    let full = WeightMatrix.random(dtype, rows: rows, cols: cols, seed: 7)
    let slice = full.slice(columns: 32..<96)
    let arena = HugePageArena(chunkBytes: 2 << 20)
    let copy = slice.resident(in: arena)
    #expect(copy.isResident && !slice.isResident)
    #expect(copy.rowStride == copy.rowBytes && copy.rowBytes == slice.rowBytes)
    #expect(copy.rows == rows && copy.cols == 64 && copy.dtype == dtype)
    #expect(Int(bitPattern: copy.base) % 64 == 0)
    var (a, b) = ([Float](repeating: 0, count: rows * 64), [Float](repeating: 1, count: rows * 64))
    a.withUnsafeMutableBufferPointer { slice.dequantize(rows: 0, count: rows, into: $0.baseAddress!) }
    b.withUnsafeMutableBufferPointer { copy.dequantize(rows: 0, count: rows, into: $0.baseAddress!) }
    #expect(a == b)
  }
}
