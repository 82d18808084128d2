import ArgumentParser
import FledgeRL

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train a tiny model end to end (placeholder until the GRPO demo lands).")
    func run() throws {
        print("fledge demo")
    }
}
