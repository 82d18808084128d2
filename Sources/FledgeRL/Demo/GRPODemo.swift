import Foundation
import FledgeLM

/// `fledge demo`: GRPO with LoRA on the shipped arithmetic model, with Unsloth's defaults and a
/// correctness reward, evaluated on held-out problems before and after — with the run's products
/// (bfloat16 with `--set bf16=true`, as the training computes).
public struct GRPODemo {
    /// Held-out problems evaluated before and after training.
    public static let heldOutCount = 200
    /// Training prompts (disjoint from the held-out ones).
    public static let trainCount = 4850

    /// The demo's settings on top of Unsloth's defaults (TRL field names), as a config file would
    /// hold them.
    public static func configYAML(modelDirectory: String, outputDirectory: String, steps: Int, seed: Int) -> String {
        DemoGRPOConfig.yaml(modelDirectory: modelDirectory, outputDirectory: outputDirectory, steps: steps, seed: seed,
                            batchSize: 256, completionLength: 6)
    }

    public let modelDirectory: URL
    public let outputDirectory: URL
    public let steps: Int
    public let seed: Int

    /// Config fields set on top of the demo's (`name=value`, as `--set` takes them).
    public let overrides: [String]

    public init(modelDirectory: URL, outputDirectory: URL, steps: Int = 250, seed: Int = 3407, overrides: [String] = []) {
        self.modelDirectory = modelDirectory
        self.overrides = overrides
        self.outputDirectory = outputDirectory
        self.steps = steps
        self.seed = seed
    }

    /// The outcome: evaluations before and after, and the finished run.
    public struct Result {
        public let before: DemoEvaluation
        public let after: DemoEvaluation
        public let outcome: TrainingOutcome
    }

    /// A demo's config (`yaml` with `overrides` on top), resolved and checked, with its model and tokenizer.
    static func load(yaml: String, overrides: [String]) throws -> (ConfigResolution<GRPOConfig>, LanguageModel, Tokenizer) {
        let resolution = ConfigResolver.resolve(GRPOConfig.self, try ConfigDocument(yaml: yaml, source: "demo"),
                                                options: ConfigOptions(overrides: try ConfigDocument(overrides: overrides)))
        guard resolution.report.isUsable else { throw TrainingError.invalidSetting(ConfigReportRendering.text(of: resolution)) }
        let config = resolution.config
        let model = try TrainingModels.load(config.run, training: config.training)
        return (resolution, model, try TrainingModels.tokenizer(config.run))
    }

    /// Evaluates, trains and evaluates again; `observer` sees the training's progress.
    public func run(observer: (any TrainingObserver)? = nil, evaluated: ((String, DemoEvaluation) -> Void)? = nil) throws -> Result {
        let (resolution, model, tokenizer) = try Self.load(
            yaml: Self.configYAML(modelDirectory: modelDirectory.path, outputDirectory: outputDirectory.path, steps: steps, seed: seed),
            overrides: overrides)
        let config = resolution.config
        let split = ArithmeticTask().split(seed: DemoBaseModel.splitSeed, train: Self.trainCount, heldOut: Self.heldOutCount)
        let evaluationOptions = DemoEvaluation.samplingOptions(model: model, seed: seed)

        func evaluate() throws -> DemoEvaluation {
            try Autocast.$precision.withValue(config.training.productPrecision) {
                try DemoEvaluation(model: model, tokenizer: tokenizer, problems: split.heldOut, options: evaluationOptions)
            }
        }

        // The adapters start as a no-op (B = 0); switched off, the model is the base model exactly.
        let before = try model.withAdaptersDisabled(evaluate)
        evaluated?("before", before)

        let dataset = PromptDataset(rows: split.train.map { $0.row(tokenizer: tokenizer) }, file: URL(fileURLWithPath: "(demo problems)"))
        let algorithm = try GRPO(model: model, tokenizer: tokenizer, dataset: dataset,
                                 rewards: try BuiltInRewards.make(config: config), config: config)
        let trainer = try Trainer(algorithm: algorithm, model: model, arguments: config.training)
        trainer.observer = observer
        trainer.resolvedConfig = resolution
        let outcome = try trainer.train()

        let after = try evaluate()
        evaluated?("after", after)
        return Result(before: before, after: after, outcome: outcome)
    }
}
