import CMPI
import Foundation

// Point-to-point messages of MPICommunicator.
//
// A send copies the bytes and starts MPI_Isend, so it never waits for the receiver: two ranks may send each other
// megabytes before either receives (MPI would otherwise stall a large blocking send until the receive is posted).
// The runtime keeps the request and its copy until MPI completes it, checked at every later call and in `flush`.
//
// A receive does not know the size in advance: it polls MPI_Improbe for the next message of (source, tag), reads
// the size from the status, and takes exactly that message with MPI_Imrecv. MPI delivers the messages of one
// sender, communicator and tag in the order sent.
extension MPICommunicator {
  public func send(_ data: UnsafeRawBufferPointer, to destination: Int, tag: Int) throws {
    try checkRank(destination, "send")
    try guarded {
      let count = try mpiCount(data.count, "send to \(destination)")
      let copy = UnsafeMutableRawPointer.allocate(byteCount: max(data.count, 1), alignment: 16)
      if let base = data.baseAddress { copy.copyMemory(from: base, byteCount: data.count) }
      var request: MPI_Request?
      do {
        try runtime.call("send to \(destination)") {
          try checkMPI(
            MPI_Isend(copy, count, cmpi_byte(), Int32(destination), Int32(tag), comm, &request),
            "send to \(destination)")
        }
      } catch {
        copy.deallocate()
        throw error
      }
      runtime.addPendingSend(request, buffer: copy)
      countSend(bytes: data.count)
    }
  }

  public func receive(from source: Int, tag: Int) throws -> [UInt8] {
    try checkRank(source, "receive")
    let operation = "receive from \(source)"
    return try guarded {
      var message: MPI_Message?
      var status = MPI_Status()
      try runtime.poll(operation, rank: rank, seconds: timeout) { flag in
        MPI_Improbe(Int32(source), Int32(tag), comm, &flag, &message, &status)
      }
      var count: Int32 = 0
      try runtime.call(operation) { try checkMPI(MPI_Get_count(&status, cmpi_byte(), &count), operation) }
      var bytes = [UInt8](repeating: 0, count: Int(count))
      try bytes.withUnsafeMutableBytes { buffer in
        var request: MPI_Request?
        try runtime.call(operation) {
          try checkMPI(MPI_Imrecv(buffer.baseAddress, count, cmpi_byte(), &message, &request), operation)
        }
        try wait(&request, operation)
      }
      return bytes
    }
  }

  /// Waits until MPI is done with every send this process started (a large one is done once its receiver takes
  /// it), at most the timeout. Sends also complete during later calls; `finalize` flushes first.
  public func flush() throws {
    try guarded { try runtime.flush(rank: rank, seconds: timeout) }
  }
}
