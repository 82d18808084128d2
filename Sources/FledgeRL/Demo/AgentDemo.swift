import Foundation
import FledgeLM

/// `fledge demo --agent`: GRPO with LoRA and the `calculator` tool on the shipped agent model (``AgentDemoModel``),
/// which calls the calculator on some multiplication problems and guesses the others; a correctness reward teaches
/// it to call the tool. Held-out problems are evaluated as episodes before and after.
public struct AgentDemo {
    /// Held-out problems evaluated before and after training.
    public static let heldOutCount = 200
    /// Training problems (disjoint from the held-out ones): the SFT conversations (two epochs) and GRPO's prompts.
    public static let trainCount = 25_600

    /// The demo's settings on top of Unsloth's defaults (TRL field names), as a config file would hold them.
    public static func configYAML(modelDirectory: String, outputDirectory: String, steps: Int, seed: Int) -> String {
        DemoGRPOConfig.yaml(modelDirectory: modelDirectory, outputDirectory: outputDirectory, steps: steps, seed: seed,
                            batchSize: 64, completionLength: 48,
                            tools: "tools: [calculator]\nmax_tool_calling_iterations: 1")
    }

    public let modelDirectory: URL
    public let outputDirectory: URL
    public let steps: Int
    public let seed: Int
    /// How many of the held-out problems are evaluated (all ``heldOutCount`` by default).
    public let evaluated: Int
    /// How many of the training problems GRPO draws its prompts from (all ``trainCount`` by default).
    public let prompts: Int
    /// Config fields set on top of the demo's (`name=value`, as `--set` takes them).
    public let overrides: [String]

    public init(modelDirectory: URL, outputDirectory: URL, steps: Int = 40, seed: Int = 3407, evaluated: Int = heldOutCount,
                prompts: Int = trainCount, overrides: [String] = []) {
        self.modelDirectory = modelDirectory
        self.outputDirectory = outputDirectory
        self.steps = steps
        self.seed = seed
        self.evaluated = min(evaluated, Self.heldOutCount)
        self.prompts = min(prompts, Self.trainCount)
        self.overrides = overrides
    }

    /// The outcome: evaluations before and after, and the finished run.
    public struct Result {
        public let before: AgentDemoEvaluation
        public let after: AgentDemoEvaluation
        public let outcome: TrainingOutcome
    }

    /// Evaluates, trains and evaluates again; `observer` sees the training's progress.
    public func run(observer: (any TrainingObserver)? = nil,
                    evaluated report: ((String, AgentDemoEvaluation) -> Void)? = nil) throws -> Result {
        let (resolution, model, tokenizer) = try GRPODemo.load(
            yaml: Self.configYAML(modelDirectory: modelDirectory.path, outputDirectory: outputDirectory.path, steps: steps, seed: seed),
            overrides: overrides)
        let config = resolution.config
        guard let toolbox = try config.agent.toolbox() else {
            throw TrainingError.invalidSetting("the agent demo needs tools: [calculator]; --set tools=[] leaves it none")
        }
        defer { toolbox.stop() }
        let split = AgentDemoModel.split(train: prompts)
        let heldOut = Array(split.heldOut.prefix(evaluated))
        func evaluate() throws -> AgentDemoEvaluation {
            try Autocast.$precision.withValue(config.training.productPrecision) {
                try AgentDemoEvaluation(model: model, tokenizer: tokenizer, problems: heldOut, toolbox: toolbox,
                                        options: DemoEvaluation.samplingOptions(model: model, seed: seed),
                                        maxCompletionLength: config.generation.maxCompletionLength,
                                        maxToolCallingIterations: config.agent.maxToolCallingIterations)
            }
        }

        // The adapters start as a no-op (B = 0); switched off, the model is the base model exactly.
        let before = try model.withAdaptersDisabled(evaluate)
        report?("before", before)

        let rows = try split.train.map { try $0.chatRow(tokenizer: tokenizer) }
        let algorithm = try GRPO(model: model, tokenizer: tokenizer,
                                 dataset: PromptDataset(rows: rows, file: URL(fileURLWithPath: "(demo problems)")),
                                 rewards: try BuiltInRewards.make(config: config), config: config, toolbox: toolbox)
        let trainer = try Trainer(algorithm: algorithm, model: model, arguments: config.training)
        trainer.observer = observer
        trainer.resolvedConfig = resolution
        let outcome = try trainer.train()

        let after = try evaluate()
        report?("after", after)
        return Result(before: before, after: after, outcome: outcome)
    }
}
