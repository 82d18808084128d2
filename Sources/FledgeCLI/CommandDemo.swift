import ArgumentParser
import Foundation
import FledgeLM
import FledgeRL

/// `fledge demo --algorithm dpo|ppo`: the same model and held-out problems as the GRPO demo, trained
/// by `fledge dpo` or `fledge ppo` on the config beside the model (`examples/demo/dpo.yaml`,
/// `ppo.yaml`) with data the demo writes into the run directory.
struct CommandDemo {
    let algorithm: DemoAlgorithm
    let modelDirectory: URL
    let outputDirectory: URL
    let seed: Int
    /// `name=value` settings on top of the config file's.
    let overrides: [String]

    func run() throws -> DemoReport {
        let configFile = modelDirectory.deletingLastPathComponent().appendingPathComponent("\(algorithm.rawValue).yaml")
        guard FileManager.default.fileExists(atPath: configFile.path) else {
            throw ValidationError("the \(algorithm.rawValue) demo needs its config beside the model: \(configFile.path)")
        }
        let data = outputDirectory.appendingPathComponent("data")
        try DemoPreferenceData.write(to: data, count: GRPODemo.trainCount)
        let tokenizer = try Tokenizer(directory: modelDirectory.path)
        let problems = DemoEvaluation.heldOutProblems

        let base = try LanguageModel(directory: modelDirectory)
        let options = DemoEvaluation.samplingOptions(model: base, seed: seed)
        let before = try DemoEvaluation(model: base, tokenizer: tokenizer, problems: problems, options: options)
        note(String(format: "%@ demo: held-out accuracy before training: %.1f%%", algorithm.rawValue.uppercased(), before.accuracy * 100))

        let dataFile = data.appendingPathComponent(algorithm == .dpo ? "preferences.jsonl" : "prompts.jsonl")
        let settings = ["model_name_or_path=\(modelDirectory.path)", "dataset_name=\(dataFile.path)",
                        "output_dir=\(outputDirectory.path)", "seed=\(seed)"] + overrides
        let arguments = ["--config", configFile.path] + settings.flatMap { ["--set", $0] }
        switch algorithm {
        case .dpo: try DPOCommand.parse(arguments).run()
        case .ppo: try PPOCommand.parse(arguments).run()
        case .grpo: preconditionFailure("the GRPO demo runs in-process")
        }

        let trained = try loadModel(modelDirectory.path, adapter: outputDirectory.path)
        let after = try DemoEvaluation(model: trained, tokenizer: tokenizer, problems: problems, options: options)
        note(String(format: "held-out accuracy after training: %.1f%%", after.accuracy * 100))
        let curves = algorithm == .dpo
            ? ["rewards/accuracies", "rewards/margins", "loss", "logps/chosen"]
            : ["objective/scores", "objective/kl", "loss/value_avg", "policy/clipfrac_avg"]
        return DemoReport(before: before, after: after, runDirectory: outputDirectory,
                          title: "fledge demo: \(algorithm.rawValue.uppercased()) on addition", curves: curves)
    }
}
