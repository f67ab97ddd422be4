import Testing

@testable import SeesawTensor

/// Records the ranges a streamed copy lets go.
private final class RecordingPages: MappedPages {
  var released: [(UnsafeRawPointer, Int)] = []
  func release(_ bytes: UnsafeRawPointer, count: Int) { released.append((bytes, count)) }
}

@Suite("Resident weight copies")
struct WeightMatrixResidentTests {
  @Test(
    "a resident copy of a column slice holds the same rows, compact, in an arena chunk", arguments: [DType.bf16, .f32])
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

  @Test("streamed() makes one copy of a float view, lets the view's file pages go, and makes it again once dropped")
  func streamedOnce() {
    let (rows, cols) = (8, 64)
    let bytes = UnsafeMutableRawPointer.allocate(byteCount: rows * cols * 2, alignment: 64)
    defer { bytes.deallocate() }
    bytes.initializeMemory(as: UInt16.self, repeating: 0x3F80, count: rows * cols)  // bf16 1.0
    let pages = RecordingPages()
    let view = WeightMatrix(dtype: .bf16, rows: rows, cols: cols, bytes: bytes, owner: pages).slice(rows: 2..<6)
    let copy = view.streamed()
    #expect(copy !== view && copy.isResident && view.streamed() === copy)
    #expect(pages.released.count == 1)
    #expect(pages.released.first.map { $0.0 == UnsafeRawPointer(bytes + 2 * cols * 2) && $0.1 == 4 * cols * 2 } == true)
    view.dropStreamed()
    #expect(!view.hasStreamed && view.streamed() !== copy)
    let quantized = WeightMatrix.random(.q4_0, rows: 16, cols: 64, seed: 1)
    #expect(quantized.streamed() === quantized)
  }
}
