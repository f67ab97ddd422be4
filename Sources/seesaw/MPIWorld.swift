import Foundation
import SeesawParallel

/// This process's MPI world when mpirun started it; the same binary without mpirun never touches MPI.
enum MPIWorld {
  static var isLaunched: Bool { MPICommunicator.isLaunchedByMPI }

  /// The world, once joined (MPI is initialised once per process).
  nonisolated(unsafe) private static var world: MPICommunicator?

  static func communicator(timeout: Double) throws -> Communicator {
    let w = try MPICommunicator.world(timeout: timeout)
    world = w
    return w
  }

  /// Delivers pending messages and finalises MPI (mpirun counts a rank that exits without it as failed).
  static func finalize() throws { try world?.finalize() }

  /// Ends every process of the job (after a failure on this one), if this process joined one.
  static func abort(reason: String) { world?.abort(reason: reason) }

  /// Processes of the job, from mpirun's environment (before joining).
  static var launchedSize: Int? {
    ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init)
  }

  /// Kernel threads per rank when several ranks share this machine and the user did not say: the cores split
  /// between the ranks on this machine (mpirun's local processes, else `inProcessRanks` threads of this process),
  /// so that ranks do not oversubscribe the cores. SmolLM2 tp2 on the 2-vCPU development machine: decode steps of
  /// 155-168 ms with one thread per rank, 207-220 ms when both ranks share a pool of two.
  static func defaultThreadsPerRank(inProcessRanks: Int) -> Int? {
    let env = ProcessInfo.processInfo.environment
    guard env["SEESAW_NUM_THREADS"] == nil else { return nil }
    let local = isLaunched ? env["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1 : inProcessRanks
    guard local > 1 else { return nil }
    return max(1, ProcessInfo.processInfo.activeProcessorCount / local)
  }
}
