import ArgumentParser
import Foundation
import FledgeLM

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

    @Option(help: "A Hugging Face model directory (config.json, safetensors weights).") var model: String
    @Option(help: "A PEFT adapter directory to load on the model (adapter_config.json, adapter_model.safetensors).") var adapter: String?
    @Option(help: "Prompt text (needs the model's tokenizer).") var prompt: String?
    @Option(help: "Prompt token ids, comma-separated.") var ids: String?
    @Flag(help: "Wrap the prompt as a user message in the tokenizer's chat template.") var chat = false
    @Option(help: "Most new tokens per sequence.") var maxNewTokens = 128
    @Option(help: "Sampling temperature.") var temperature: Float?
    @Option(help: "Keep the K most likely tokens (0: all).") var topK: Int?
    @Option(help: "Keep the most likely tokens up to this probability mass.") var topP: Float?
    @Option(help: "Drop tokens less likely than this fraction of the most likely one.") var minP: Float?
    @Option(help: "Penalty for tokens already in the sequence (1: none).") var repetitionPenalty: Float?
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Sequences per prompt.") var numReturnSequences = 1
    @Flag(help: "Always take the most likely token.") var greedy = false
    @Flag(help: "Do not stop at the end-of-sequence tokens.") var ignoreEos = false
    @Flag(help: "One JSON line per sequence.") var json = false
    @Option(help: "Stop a sequence once its text contains this string (repeatable; needs the tokenizer).")
    var stop: [String] = []

    func validate() throws {
        guard (prompt == nil) != (ids == nil) else { throw ValidationError("give exactly one of --prompt and --ids") }
        guard maxNewTokens > 0 else { throw ValidationError("--max-new-tokens must be positive, got \(maxNewTokens)") }
        guard numReturnSequences > 0 else { throw ValidationError("--num-return-sequences must be positive, got \(numReturnSequences)") }
        if let temperature, !(temperature > 0) { throw ValidationError("--temperature must be positive, got \(temperature); use --greedy for argmax") }
        if let topP, !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1], got \(topP)") }
        if let minP, !(minP >= 0 && minP <= 1) { throw ValidationError("--min-p must be in [0, 1], got \(minP)") }
        if let topK, topK < 0 { throw ValidationError("--top-k must be >= 0, got \(topK)") }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: model)
        let lm = try loadModel(model, adapter: adapter)
        let promptIds: [Int]
        // The tokenizer is needed for text prompts and stop strings, and used for output text when present.
        let needsTokenizer = prompt != nil || !stop.isEmpty
        let tokenizer: Tokenizer? = needsTokenizer ? try TextSupport.tokenizer(directory) : try? TextSupport.tokenizer(directory)
        if let ids {
            guard !chat else { throw ValidationError("--chat applies to --prompt text, not --ids") }
            promptIds = try parseIds(ids, option: "--ids")
        } else if chat {
            promptIds = try TextSupport.chatPrompt(prompt!, tokenizer: tokenizer!)
        } else {
            promptIds = tokenizer!.encode(prompt!, addSpecialTokens: true)
        }
        guard !promptIds.isEmpty else {
            throw ValidationError("--prompt \(String(reflecting: prompt ?? "")) encodes to no tokens (this tokenizer adds no "
                + "beginning-of-sequence token and knows none of its text); give text the tokenizer knows, or token ids with --ids")
        }
        try checkVocabulary(promptIds, size: lm.config.vocabSize, source: "the prompt")

        var options = SamplingOptions(lm.generationConfig)
        let sampling = temperature != nil || topK != nil || topP != nil || minP != nil
        options.greedy = greedy || (!sampling && !lm.generationConfig.doSample)
        if let temperature { options.temperature = temperature }
        if let topK { options.topK = topK }  // else generation_config.json's (transformers' default 50)
        if let topP { options.topP = topP }
        if let minP { options.minP = minP }
        if let repetitionPenalty { options.repetitionPenalty = repetitionPenalty }
        options.seed = seed
        options.maxNewTokens = maxNewTokens
        options.ignoreEOS = ignoreEos

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
                let rendered = text.map { jsonLine([$0]).dropFirst().dropLast() } ?? "null"
                print("{\"finish_reason\":\"\(result.finishReason.rawValue)\",\"ids\":\(jsonLine(result.ids)),"
                    + "\"logprobs\":\(jsonFloats(result.logProbs)),\"text\":\(rendered)}")
            } else if !streaming {
                print(text ?? result.ids.map(String.init).joined(separator: " "))
            }
        }
    }
}
