import ArgumentParser
import Foundation
import FledgeHub
import FledgeLM
import FledgeRL

/// `fledge generate`: sampling or greedy decoding with a KV cache.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate continuations of a prompt.",
        discussion: """
            Sampling settings default to the model's generation_config.json (greedy unless it sets do_sample); \
            any of --temperature, --top-k, --top-p, --min-p turns sampling on; unset filters keep the file's values \
            (transformers' defaults: top-k 50). With --json, prints one line per \
            sequence: {"ids": [...new tokens], "text": ..., "logprobs": [...], "finish_reason": ...}.
            """)

    @Option(help: "A Hugging Face model directory (config.json, safetensors weights), a .gguf file, or a Hub id (org/name[@revision]) found in or downloaded to the Hugging Face cache.") var model: String
    @Option(help: "A PEFT adapter directory to load on the model (adapter_config.json, adapter_model.safetensors).") var adapter: String?
    @Option(help: quantizationHelp) var quantization: QuantizationFormat?
    @Option(help: ggufWeightsHelp) var ggufWeights: GGUFWeights = .keep
    @Option(help: "Prompt text (needs the model's tokenizer).") var prompt: String?
    @Option(help: "Prompt token ids, comma-separated.") var ids: String?
    @Flag(help: "Wrap the prompt as a user message in the tokenizer's chat template.") var chat = false
    @Option(help: TextSupport.chatTemplateKwargsHelp) var chatTemplateKwargs: String?
    @OptionGroup var sampling: SamplingFlags
    @Option(parsing: .unconditional, help: "Sequences per prompt.") var numReturnSequences = 1
    @Flag(help: "Do not stop at the end-of-sequence tokens.") var ignoreEos = false
    @Flag(help: "One JSON line per sequence.") var json = false
    @Option(help: "A tool the model may call, running one multi-turn episode of the --prompt as GRPO would (repeatable): calculator, or command:SHELL (see docs/agents.md). --max-new-tokens then bounds the whole episode's completion, as max_completion_length does.")
    var tools: [String] = []
    @Option(help: "An environment command for the episode (JSON lines; see docs/agents.md).") var environmentCommand: String?
    @Option(help: "Seconds the environment and tool commands may take to answer one line.") var environmentCommandTimeout = 60.0
    @Option(help: "With tools: the most turns whose tool calls are answered (default: no limit).") var maxToolCallingIterations: Int?
    @Option(help: "Stop a sequence once its text contains this string (repeatable; needs the tokenizer).")
    var stop: [String] = []

    func validate() throws {
        guard (prompt == nil) != (ids == nil) else { throw ValidationError("give exactly one of --prompt and --ids") }
        if !tools.isEmpty || environmentCommand != nil {
            guard prompt != nil, numReturnSequences == 1, stop.isEmpty, !json else {
                throw ValidationError("--tools and --environment-command run one episode of a --prompt: they do not take "
                    + "--ids, --num-return-sequences, --stop or --json")
            }
        }
        guard ConfigRange.count.contains(Double(numReturnSequences)) else {
            throw ValidationError("--num-return-sequences \(numReturnSequences): must be in \(ConfigRange.count)")
        }
    }

    func run() throws {
        let directory = try ModelLocation.resolve(model)
        let lm = try loadModel(directory.path, adapter: adapter, quantization: quantization, ggufWeights: ggufWeights)
        let promptIds: [Int]
        // The tokenizer is needed for text prompts and stop strings, and used for output text when present.
        let needsTokenizer = prompt != nil || !stop.isEmpty
        let tokenizer: Tokenizer? = needsTokenizer ? try TextSupport.tokenizer(directory) : try? TextSupport.tokenizer(directory)
        guard chatTemplateKwargs == nil || chat else {
            throw ValidationError("--chat-template-kwargs applies with --chat (the variables of the chat template)")
        }
        if let ids {
            guard !chat else { throw ValidationError("--chat applies to --prompt text, not --ids") }
            promptIds = try parseIds(ids, option: "--ids")
        } else if chat {
            promptIds = try TextSupport.chatPrompt(prompt!, tokenizer: tokenizer!,
                                                   variables: try TextSupport.chatTemplateVariables(chatTemplateKwargs))
        } else {
            promptIds = tokenizer!.encode(prompt!, addSpecialTokens: true)
        }
        guard !promptIds.isEmpty else {
            throw ValidationError("--prompt \(String(reflecting: prompt ?? "")) encodes to no tokens (this tokenizer adds no "
                + "beginning-of-sequence token and knows none of its text); give text the tokenizer knows, or token ids with --ids")
        }
        try checkVocabulary(promptIds, size: lm.config.vocabSize, source: "the prompt")
        // The generation cache (keys and values of every layer, prompt plus new tokens) is allocated up front.
        let maxNewTokens = sampling.maxNewTokens ?? Self.defaultMaxNewTokens
        let config = lm.config
        let cacheBytes = Double(numReturnSequences) * Double(promptIds.count + maxNewTokens)
            * Double(config.layers) * 2 * Double(config.kvHeads * config.headDim) * Double(MemoryLayout<Float>.size)
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        guard cacheBytes <= memory / 2 else {
            throw ValidationError("--max-new-tokens \(maxNewTokens) and --num-return-sequences \(numReturnSequences) need a "
                + "generation cache of \(Self.gigabytes(cacheBytes)), more than half of this machine's "
                + "\(Self.gigabytes(memory)) of memory; lower them")
        }

        var options = sampling.options(for: lm, greedyByDefault: false, defaultMaxNewTokens: Self.defaultMaxNewTokens)
        options.ignoreEOS = ignoreEos

        if let toolbox = try Toolbox.make(tools: tools, environmentCommand: environmentCommand, timeout: environmentCommandTimeout) {
            defer { toolbox.stop() }
            try GenerateEpisode(model: lm, tokenizer: tokenizer!, toolbox: toolbox, maxNewTokens: maxNewTokens,
                                maxToolCallingIterations: maxToolCallingIterations).run(prompt: prompt!, options: options)
            return
        }
        let prompts = Array(repeating: promptIds, count: numReturnSequences)
        let streaming = !json && numReturnSequences == 1
        var decoder = tokenizer.map { StreamingDecoder(tokenizer: $0, skipSpecialTokens: true) }
        let stops = stop
        let shouldStop: ((Int, [Int]) -> Bool)? = stops.isEmpty ? nil : { _, ids in
            let text = tokenizer!.decode(ids, skipSpecialTokens: false)
            return stops.contains { text.contains($0) }
        }
        let results = lm.generate(prompts, options: options, shouldStop: shouldStop, onToken: streaming ? { _, id in
            if decoder != nil {
                if let piece = decoder!.step(id) { print(piece, terminator: "") }
            } else {
                print(id, terminator: " ")
            }
            fflush(nil)
        } : nil)
        if streaming { print() }
        for result in results {
            let text = tokenizer?.decode(result.ids, skipSpecialTokens: true)
            if json {
                let rendered = text.map { JSONStringLiteral.quoted($0) } ?? "null"
                print("{\"finish_reason\":\"\(result.finishReason.rawValue)\",\"ids\":\(jsonLine(.array(result.ids.map(JSONValue.int)))),"
                    + "\"logprobs\":\(jsonFloats(result.logProbs)),\"text\":\(rendered)}")
            } else if !streaming {
                print(text ?? result.ids.map(String.init).joined(separator: " "))
            }
        }
    }

    /// New tokens per sequence without --max-new-tokens.
    static let defaultMaxNewTokens = 128

    private static func gigabytes(_ bytes: Double) -> String {
        String(format: "%.1f GB", bytes / 1e9)
    }
}
