import SeesawParallel

/// The MPI world when the process was started by mpirun (placeholder until the MPI communicator lands).
enum MPIWorld {
  static var isLaunched: Bool { false }

  static func communicator(timeout: Double) throws -> Communicator {
    throw CommunicatorError.mpi(operation: "init", message: "this build has no MPI support")
  }
}
