import ArgumentParser

/// `fledge bench`: timings of hot paths, to compare side by side with the reference libraries.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark a hot path (compare with the matching script in Scripts/bench/).",
        subcommands: [BenchTokenizer.self])
}
