/// How this process learns whether it is one of several training together.
public enum ProcessGroup {
    /// The environment variables by which launchers announce the number of processes: Open MPI's
    /// `mpirun` sets `OMPI_COMM_WORLD_SIZE`; PMI-based launchers (Slurm's `srun`, Hydra) `PMI_SIZE`.
    static let launcherSizeVariables = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"]

    /// The number of processes a launcher announced; nil when no launcher started this process.
    public static func launcherSize(environment: [String: String]) -> Int? {
        launcherSizeVariables.lazy.compactMap { environment[$0].flatMap { Int($0) } }.first
    }

    /// This process's rank as the launcher announced it (`OMPI_COMM_WORLD_RANK`, `PMI_RANK`), known
    /// before MPI starts; nil when no launcher started the process.
    public static func launcherRank(environment: [String: String]) -> Int? {
        ["OMPI_COMM_WORLD_RANK", "PMI_RANK"].lazy.compactMap { environment[$0].flatMap { Int($0) } }.first
    }

    /// The processes this one trains with: MPI when a launcher started more than one process (or
    /// `FLEDGE_MPI=1` asks for MPI), else ``SingleProcess``. A launcher's process count must then
    /// agree with `WORLD_SIZE` when that is set too.
    public static func join(environment: [String: String]) throws -> any Communicator {
        let communicator: any Communicator = (launcherSize(environment: environment) ?? 1) > 1 || environment["FLEDGE_MPI"] == "1"
            ? try MPICommunicator(environment: environment) : SingleProcess()
        if let setting = environment["WORLD_SIZE"], let worldSize = Int(setting), worldSize != communicator.size {
            let started = communicator.size == 1 ? "this process was not started by an MPI launcher"
                : "the MPI launcher started \(communicator.size) processes"
            throw CommunicatorError.mismatch("WORLD_SIZE is \(worldSize), but \(started); launch with "
                + "`mpirun -np \(worldSize) fledge …`, or unset WORLD_SIZE")
        }
        return communicator
    }
}
