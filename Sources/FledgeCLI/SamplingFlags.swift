import ArgumentParser
import FledgeLM
import FledgeRL

/// The sampling flags of the commands that generate (`fledge generate`, `fledge eval`), checked
/// against the ranges of the GRPO/RLOO config fields they match.
struct SamplingFlags: ParsableArguments {
    // Numeric options read their value unconditionally, so that `--max-new-tokens -1` is read as the
    // number -1 (and rejected by its range) rather than as a flag.
    @Option(parsing: .unconditional, help: "Most new tokens per sequence (default: 128 for generate, 256 for eval).")
    var maxNewTokens: Int?
    @Option(parsing: .unconditional, help: "Sampling temperature.") var temperature: Float?
    @Option(parsing: .unconditional, help: "Keep the K most likely tokens (0: all).") var topK: Int?
    @Option(parsing: .unconditional, help: "Keep the most likely tokens up to this probability mass.") var topP: Float?
    @Option(parsing: .unconditional, help: "Drop tokens less likely than this fraction of the most likely one.") var minP: Float?
    @Option(parsing: .unconditional, help: "Penalty for tokens already in the sequence (1: none).") var repetitionPenalty: Float?
    @Option(parsing: .unconditional, help: "Random seed.") var seed: UInt64 = 0
    @Flag(help: "Always take the most likely token.") var greedy = false

    /// Whether any of the options that turn sampling on was given.
    var asksForSampling: Bool { temperature != nil || topK != nil || topP != nil || minP != nil }

    func validate() throws {
        func number<Value: BinaryFloatingPoint>(_ value: Value?) -> (text: String, value: Double)? {
            value.map { ("\($0)", Double($0)) }
        }
        typealias Option = (name: String, given: (text: String, value: Double)?, keyPath: PartialKeyPath<GenerationArguments>)
        let options: [Option] = [
            ("--max-new-tokens", maxNewTokens.map { ("\($0)", Double($0)) }, \.maxCompletionLength),
            ("--temperature", number(temperature), \.temperature),
            ("--top-k", topK.map { ("\($0)", Double($0)) }, \.topK),
            ("--top-p", number(topP), \.topP),
            ("--min-p", number(minP), \.minP),
            ("--repetition-penalty", number(repetitionPenalty), \.repetitionPenalty),
        ]
        for (option, given, keyPath) in options {
            guard let given, let field = GenerationArguments.field(for: keyPath), let range = field.range,
                  !range.contains(given.value)
            else { continue }
            let greedy = option == "--temperature" ? "; use --greedy for argmax" : ""
            throw ValidationError(
                "\(option) \(given.text): as the config field \(field.name), it must be \(range.requirement)\(greedy)")
        }
    }

    /// The sampling options for `model`: its generation_config.json's with the flags on top; greedy
    /// with --greedy, or when no flag turns sampling on and `greedyByDefault` (else the file's
    /// `do_sample` decides). At most `maxNewTokens` (else `defaultMaxNewTokens`) new tokens.
    func options(for model: LanguageModel, greedyByDefault: Bool, defaultMaxNewTokens: Int) -> SamplingOptions {
        var options = SamplingOptions(model.generationConfig)
        options.greedy = greedy || (!asksForSampling && (greedyByDefault || !model.generationConfig.doSample))
        if let temperature { options.temperature = temperature }
        if let topK { options.topK = topK }  // else generation_config.json's (transformers' default 50)
        if let topP { options.topP = topP }
        if let minP { options.minP = minP }
        if let repetitionPenalty { options.repetitionPenalty = repetitionPenalty }
        options.seed = seed
        options.maxNewTokens = maxNewTokens ?? defaultMaxNewTokens
        return options
    }
}
