import FledgeLM

/// The pieces of TRL's dataset tokenization that SFT, DPO and KTO share: EOS appended to plain-text
/// completions, the completion starting where the tokenized prompt and prompt + completion
/// diverge (`common_prefix_length`), and `max_length` truncation.
enum TRLTokenization {
    /// The ids of a plain-text prompt alone and of the prompt followed by `completion` (EOS appended),
    /// each with the tokenizer's special tokens, as DPO's and KTO's `tokenize_fn` give them.
    static func promptAndSequence(prompt: String, completion: String, tokenizer: Tokenizer) throws -> (prompt: [Int], sequence: [Int]) {
        (tokenizer.encode(prompt, addSpecialTokens: true),
         tokenizer.encode(prompt + (try endingWithEOS(completion, tokenizer: tokenizer)), addSpecialTokens: true))
    }

    /// The ids of a chat prompt through the chat template with the generation prompt, and of the
    /// prompt followed by the `completion` messages, as DPO's and KTO's `tokenize_fn` give them.
    static func promptAndSequence(prompt: [JSONValue], completion: [JSONValue], tokenizer: Tokenizer) throws -> (prompt: [Int], sequence: [Int]) {
        (try tokenizer.applyChatTemplate(messages: prompt, addGenerationPrompt: true).ids,
         try tokenizer.applyChatTemplate(messages: prompt + completion).ids)
    }

    /// `text` with the tokenizer's EOS token text appended, unless it already ends with it.
    static func endingWithEOS(_ text: String, tokenizer: Tokenizer) throws(DatasetError) -> String {
        guard let eos = tokenizer.config.eosToken else {
            throw DatasetError(file: "tokenizer_config.json", "the tokenizer has no eos_token, which TRL appends to plain-text "
                + "completions; set \"eos_token\" in the model's tokenizer_config.json")
        }
        return text.hasSuffix(eos) ? text : text + eos
    }

    /// Leading ids `a` and `b` have in common.
    static func commonPrefixLength(_ a: [Int], _ b: [Int]) -> Int {
        zip(a, b).prefix { $0 == $1 }.count
    }
}

extension TruncationMode {
    /// `values` cut to `maxLength` elements at the end this mode drops (none when `maxLength` is nil).
    func truncate<Element>(_ values: [Element], to maxLength: Int?) -> [Element] {
        guard let maxLength, values.count > maxLength else { return values }
        return self == .keepStart ? Array(values.prefix(maxLength)) : Array(values.suffix(maxLength))
    }
}
