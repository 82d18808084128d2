import ArgumentParser
import FledgeTensor
import Foundation

@main
struct Fledge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fledge",
        abstract: "Post-train language models with reinforcement learning (GRPO, DPO, PPO, SFT) on the CPU.",
        subcommands: [Demo.self, GRPOCommand.self, ConfigCommand.self, SFTCommand.self, DPOCommand.self, PPOCommand.self, RLOOCommand.self, RewardModelingCommand.self,
                      KTOCommand.self,
                      DistillCommand.self,
                      DataCommand.self, Tokenize.self, Score.self, Generate.self, EvalCommand.self, ReportCommand.self, Download.self, Export.self, Plot.self, Bench.self])

    /// Runs the command line; with `FLEDGE_LEAN_MEMORY=1` in the environment, first applies
    /// ``AllocatorPolicy`` (less resident memory, slower training steps: docs/engine.md).
    static func main() {
        if ProcessInfo.processInfo.environment["FLEDGE_LEAN_MEMORY"] == "1" { AllocatorPolicy.apply() }
        main(nil)
    }
}
