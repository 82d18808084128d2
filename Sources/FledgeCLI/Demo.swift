import ArgumentParser
import Foundation
import FledgeRL

/// `fledge demo`: reinforcement learning making a small model better, offline, in minutes.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the shipped arithmetic model with GRPO (LoRA) and show it improve on held-out problems.",
        subcommands: [DemoRun.self, DemoMakeBaseModel.self, DemoMakeAgentModel.self, DemoMakeData.self],
        defaultSubcommand: DemoRun.self)

    /// `examples/demo/model` (or `examples/demo/NAME`) under the working directory, else in the source tree this
    /// binary was built from.
    static func shippedModel(_ name: String = "model") throws -> URL {
        let relative = "examples/demo/\(name)"
        let candidates = [URL(fileURLWithPath: relative),
                          URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../\(relative)")]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path) }) else {
            throw ValidationError("the demo model is missing: expected \(relative)/config.json in the repository; "
                + "run fledge demo from the repository root, or pass --model DIR")
        }
        return found.standardizedFileURL
    }
}

/// The algorithms the demo shows.
enum DemoAlgorithm: String, ExpressibleByArgument, CaseIterable {
    case grpo, dpo, ppo
}

/// The demo run itself.
struct DemoRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the demo (the default).")

    @Option(help: "grpo (the default), dpo (preference pairs) or ppo (a value model and the reward).")
    var algorithm: DemoAlgorithm = .grpo
    @Option(help: "The base model directory (default: examples/demo/model; agent-model with --agent).") var model: String?
    @Option(help: "Where the run goes (default: runs/demo-ALGORITHM; runs/demo-agent with --agent).") var outputDir: String?
    @Option(help: "Optimizer steps (default: 250 for GRPO, 40 with --agent; the config's for DPO and PPO).") var steps: Int?
    @Option(help: "The seed.") var seed = 3407
    @Option(name: .customLong("set"), help: "Override a field of the demo's config, e.g. --set learning_rate=1e-3.")
    var overrides: [String] = []
    @Flag(help: "End with one JSON line {before, after, run_dir} for scripts.") var json = false
    @Flag(help: "The agent demo: GRPO teaches examples/demo/agent-model to call the calculator tool on multiplications.")
    var agent = false

    func run() throws {
        if agent { return try runAgent() }
        let modelDirectory = try model.map { URL(fileURLWithPath: $0) } ?? Demo.shippedModel()
        let output = URL(fileURLWithPath: outputDir ?? "runs/demo-\(algorithm.rawValue)").standardizedFileURL
        try? FileManager.default.removeItem(at: output)
        let report: DemoReport
        switch algorithm {
        case .grpo:
            note("GRPO demo: teaching \(modelDirectory.path) to add better, with a correctness reward.")
            let display = ProgressDisplay()
            let demo = GRPODemo(modelDirectory: modelDirectory, outputDirectory: output, steps: steps ?? 250, seed: seed,
                                overrides: overrides)
            let result = try demo.run(observer: display) { stage, evaluation in
                note(String(format: "held-out accuracy %@ training: %.1f%%", stage, evaluation.accuracy * 100))
            }
            display.finish()
            report = DemoReport(before: result.before, after: result.after, runDirectory: output,
                                title: "fledge demo: GRPO on addition", curves: ["reward", "reward_std", "kl", "completions/mean_length"])
        case .dpo, .ppo:
            let demo = CommandDemo(algorithm: algorithm, modelDirectory: modelDirectory, outputDirectory: output, seed: seed,
                                   overrides: overrides + (steps.map { ["max_steps=\($0)"] } ?? []))
            report = try demo.run()
        }
        report.print(json: json)
    }

    /// `--agent`: GRPO with the calculator tool on the shipped agent model.
    private func runAgent() throws {
        guard algorithm == .grpo else { throw ValidationError("--agent trains with GRPO; drop --algorithm \(algorithm.rawValue)") }
        let modelDirectory = try model.map { URL(fileURLWithPath: $0) } ?? Demo.shippedModel("agent-model")
        let output = URL(fileURLWithPath: outputDir ?? "runs/demo-agent").standardizedFileURL
        try? FileManager.default.removeItem(at: output)
        note("Agent demo: teaching \(modelDirectory.path) to multiply with the calculator tool, with a correctness reward.")
        let display = ProgressDisplay()
        let demo = AgentDemo(modelDirectory: modelDirectory, outputDirectory: output, steps: steps ?? 40, seed: seed,
                             overrides: overrides)
        let result = try demo.run(observer: display) { stage, evaluation in
            note(String(format: "held-out accuracy %@ training: %.1f%%, episodes with a correct calculator call: %.1f%%",
                        stage, evaluation.accuracy * 100, evaluation.correctToolCallShare * 100))
        }
        display.finish()
        AgentDemoReport(before: result.before, after: result.after, runDirectory: output).print(json: json)
    }
}

/// Rebuilds the agent demo's model from scratch (see examples/demo/README.md): writes the initial model and the
/// conversations, then runs `fledge sft` on examples/demo/agent-sft.yaml.
struct DemoMakeAgentModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-agent-model",
        abstract: "Create the agent demo's model: random weights, then supervised fine-tuning on multiplications, some "
            + "answered with the calculator tool.")

    @Option(help: "The SFT config (its model_name_or_path and dataset_name must point into --work-dir).")
    var config = "examples/demo/agent-sft.yaml"
    @Option(help: "Where the initial model and the training data go.") var workDir = "runs/demo-agent-base"
    @Option(name: .customLong("set"), help: "Override a field of the SFT config, e.g. --set max_steps=10.")
    var overrides: [String] = []

    func run() throws {
        let work = URL(fileURLWithPath: workDir).standardizedFileURL
        try AgentDemoModel.writeInitialModel(to: work.appendingPathComponent("initial-model"), seed: 1)
        try AgentDemoModel.writeTrainingData(to: work.appendingPathComponent("train.jsonl"), examples: AgentDemo.trainCount)
        note("wrote \(work.path)/initial-model and \(work.path)/train.jsonl; now fledge sft --config \(config)")
        let sft = try SFTCommand.parse(["--config", config] + overrides.flatMap { ["--set", $0] })
        try sft.run()
    }
}

/// Rebuilds the demo's base model from scratch (see examples/demo/README.md): writes the initial
/// model and the training data, then runs `fledge sft` on examples/demo/sft.yaml.
struct DemoMakeBaseModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-base-model",
        abstract: "Create the demo's base model: random weights, then supervised fine-tuning on addition problems.")

    @Option(help: "The SFT config (its model_name_or_path and dataset_name must point into --work-dir).")
    var config = "examples/demo/sft.yaml"
    @Option(help: "Where the initial model and the training data go.") var workDir = "runs/demo-base"

    func run() throws {
        let work = URL(fileURLWithPath: workDir).standardizedFileURL
        try DemoBaseModel.writeInitialModel(to: work.appendingPathComponent("initial-model"), seed: 1)
        try DemoBaseModel.writeTrainingData(to: work.appendingPathComponent("train.jsonl"), examples: GRPODemo.trainCount)
        note("wrote \(work.path)/initial-model and \(work.path)/train.jsonl; now fledge sft --config \(config)")
        let sft = try SFTCommand.parse(["--config", config])
        try sft.run()
    }
}

/// Writes the prompts and preference pairs the DPO, PPO and RLOO demo configs read
/// (examples/demo/dpo.yaml, ppo.yaml, rloo.yaml).
struct DemoMakeData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-data",
        abstract: "Write training prompts (with answers) and preference pairs of the demo's problems for fledge dpo/ppo/rloo.")

    @Option(help: "Where prompts.jsonl and preferences.jsonl go.") var workDir = "runs/demo-data"
    @Option(help: "Training problems to write.") var count = 2048

    func run() throws {
        let work = URL(fileURLWithPath: workDir).standardizedFileURL
        try DemoPreferenceData.write(to: work, count: count)
        note("wrote \(work.path)/prompts.jsonl and preferences.jsonl (\(count) problems)")
    }
}
