import ArgumentParser
import FledgeTensor

@main
struct Fledge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fledge",
        abstract: "Post-train language models with reinforcement learning (GRPO, DPO, PPO, SFT) on the CPU.",
        subcommands: [Demo.self, GRPOCommand.self, ConfigCommand.self, SFTCommand.self, DPOCommand.self, PPOCommand.self, RLOOCommand.self, RewardModelingCommand.self,
                      KTOCommand.self,
                      DistillCommand.self,
                      DataCommand.self, Tokenize.self, Score.self, Generate.self, EvalCommand.self, ReportCommand.self, Download.self, Export.self, Plot.self, Bench.self])

    /// Sets the process's allocator policy (``AllocatorPolicy``), then runs the command line.
    static func main() {
        AllocatorPolicy.apply()
        main(nil)
    }
}
