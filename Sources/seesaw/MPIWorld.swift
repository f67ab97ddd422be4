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

  /// Kernel threads per process when several ranks share this machine and the user did not say: the cores split
  /// between the local ranks, so that their pools do not spin on each other's cores.
  static var defaultThreadsPerRank: Int? {
    let env = ProcessInfo.processInfo.environment
    guard isLaunched, env["SEESAW_NUM_THREADS"] == nil, let local = env["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init),
      local > 0
    else { return nil }
    return max(1, ProcessInfo.processInfo.activeProcessorCount / local)
  }
}
