import ArgumentParser
import Foundation
import FledgeHub
import FledgeLM
import FledgeRL

/// `fledge eval`: how good a model is on a dataset's prompts, scored by the reward functions
/// training uses (``ModelEvaluation``).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model on a dataset's prompts with the training reward functions.",
        discussion: """
            Generates --num-samples completions for every prompt of the split (greedy by default with one sample; \
            any of --temperature, --top-k, --top-p, --min-p samples, on top of generation_config.json) and scores \
            them with the rewards (default: answer). Prints the mean reward, the accuracy (the share of prompts \
            whose completion reaches every reward function's full score: 1 for answer, format and reward commands, \
            0 for length:TARGET and soft_overlong; reward models and plain length have none) with its 95 % Wilson \
            interval, pass@k (Chen et al.'s unbiased estimator, k = 1, 2, 4, …, K) when K > 1, the mean completion \
            length and the time. --output writes one JSON line per prompt (prompt, completions, rewards, reward, \
            correct); --json ends with one line {"rows", "accuracy", "accuracy_ci95", "mean_reward", "pass_at_k", \
            "mean_length", "seconds"}.
            """)

    @Option(help: "A Hugging Face model directory (config.json, safetensors weights), a .gguf file, or a Hub id (org/name[@revision]) found in or downloaded to the Hugging Face cache.") var model: String
    @Option(help: "A PEFT adapter directory to load on the model (adapter_config.json, adapter_model.safetensors).") var adapter: String?
    @Option(help: quantizationHelp) var quantization: QuantizationFormat?
    @Option(help: ggufWeightsHelp) var ggufWeights: GGUFWeights = .keep
    @Option(help: "The dataset: a data file, a dataset folder, or a Hub dataset id; each row needs a 'prompt' and the columns the rewards read.")
    var dataset: String
    @Option(help: "The split to evaluate (default: test when the dataset has one, else train).") var split: String?
    @Option(help: "A reward function as reward_funcs names it (repeatable; default: answer).") var reward: [String] = []
    @Option(help: "A reward command, as reward_command runs it (one JSON line per completion in, {\"reward\": x} out).")
    var rewardCommand: String?
    @Option(parsing: .unconditional, help: "Completions per prompt (K); pass@k is reported when K > 1.") var numSamples = 1
    @OptionGroup var sampling: SamplingFlags
    @Option(help: TextSupport.chatTemplateKwargsHelp) var chatTemplateKwargs: String?
    @Option(help: "Write one JSON line per prompt to this file.") var output: String?
    @Flag(help: "End with one JSON summary line.") var json = false

    /// Completions decoded at once (continuous batching, as GRPO's rollouts decode).
    static let concurrentRows = 64
    /// New tokens per completion without --max-new-tokens.
    static let defaultMaxNewTokens = 256

    func validate() throws {
        guard ConfigRange.count.contains(Double(numSamples)) else {
            throw ValidationError("--num-samples \(numSamples): must be in \(ConfigRange.count)")
        }
    }

    func run() throws {
        let directory = try ModelLocation.resolve(model)
        let lm = try loadModel(directory.path, adapter: adapter, quantization: quantization, ggufWeights: ggufWeights)
        let tokenizer = try TextSupport.tokenizer(directory)
        let options = sampling.options(for: lm, greedyByDefault: numSamples == 1, defaultMaxNewTokens: Self.defaultMaxNewTokens)
        var run = RunArguments()
        run.rewardFuncs = reward.isEmpty && rewardCommand == nil ? ["answer"] : reward
        run.rewardCommand = rewardCommand
        let variables = try TextSupport.chatTemplateVariables(chatTemplateKwargs)
        let rewards = try BuiltInRewards.make(run: run, maxCompletionLength: options.maxNewTokens, chatTemplateVariables: variables)
        let repository = try DatasetLocation.resolve(dataset, config: nil)
        let splitName = split ?? (repository.files(ofSplit: "test") != nil ? "test" : "train")
        let prompts = try PromptDataset(split: repository.split(splitName), tokenizer: tokenizer,
                                        chatTemplateVariables: variables)
        try prompts.requirePromptsFit(model: lm, maxSeqLength: nil, completionTokens: options.maxNewTokens,
                                      completionField: "--max-new-tokens")
        note("evaluating \(prompts.rows.count) prompts of \(prompts.source) (\(numSamples) "
            + "\(numSamples == 1 ? "completion" : "completions") each, \(options.greedy ? "greedy" : "sampled"); "
            + "rewards: \(rewards.map(\.name).joined(separator: ", ")))")
        let evaluation = try ModelEvaluation(model: lm, tokenizer: tokenizer, prompts: prompts.rows, rewards: rewards,
                                             options: options, samplesPerPrompt: numSamples, concurrentRows: Self.concurrentRows)
        if let output { try write(evaluation, to: output) }
        print(EvaluationText.summary(evaluation))
        if json { print(jsonLine(evaluation.summaryJSON, sortingKeys: false)) }
    }

    private func write(_ evaluation: ModelEvaluation, to path: String) throws {
        let text = evaluation.rows.map { jsonLine(evaluation.json(of: $0), sortingKeys: false) + "\n" }.joined()
        do {
            try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: path))
        } catch {
            throw ValidationError("--output \(path): cannot write the file: \(error.localizedDescription)")
        }
    }
}
