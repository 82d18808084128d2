import FledgeLM

/// A tokenized unpaired example before truncation: the prompt's ids up to where the tokenized
/// prompt and prompt + completion diverge, the completion's ids from there, and the label.
public struct UnpairedTokens: Equatable, Sendable {
    public var prompt: [Int]
    public var completion: [Int]
    public var label: Bool

    public init(prompt: [Int], completion: [Int], label: Bool) {
        self.prompt = prompt
        self.completion = completion
        self.label = label
    }
}

/// Tokenizes unpaired preference rows as TRL's `KTOTrainer._prepare_dataset` does: EOS appended to
/// plain-text completions, prompt and prompt + completion tokenized separately (text with the
/// tokenizer's special tokens; messages through the chat template, the prompt with the generation
/// prompt), the completion starting where both leave the prompt's ids (`common_prefix_length`), and
/// a row dropped when its prompt alone fills `max_length`.
public struct UnpairedPreferenceEncoder {
    public let tokenizer: Tokenizer
    public let maxLength: Int?

    public init(tokenizer: Tokenizer, maxLength: Int?) {
        self.tokenizer = tokenizer
        self.maxLength = maxLength
    }

    /// The tokenized row, or nil when TRL drops it (its prompt has `max_length` tokens or more). A
    /// template that fails throws `TemplateError`; a tokenizer without EOS throws ``DatasetError``.
    public func encode(_ example: UnpairedPreferenceExample) throws -> UnpairedTokens? {
        let ids: (prompt: [Int], sequence: [Int])
        switch example.content {
        case let .text(prompt, completion):
            ids = try TRLTokenization.promptAndSequence(prompt: prompt, completion: completion, tokenizer: tokenizer)
        case let .conversation(prompt, completion):
            ids = try TRLTokenization.promptAndSequence(prompt: prompt, completion: completion, tokenizer: tokenizer)
        }
        let promptLength = TRLTokenization.commonPrefixLength(ids.prompt, ids.sequence)
        if let maxLength, promptLength >= maxLength { return nil }
        return UnpairedTokens(prompt: Array(ids.prompt[..<promptLength]), completion: Array(ids.sequence[promptLength...]),
                              label: example.label)
    }

    /// `prompt` followed by `completion`, cut to `max_length` from the right, as TRL's
    /// `DataCollatorForUnpairedPreference` builds each training sequence.
    public func sequence(prompt: [Int], completion: [Int]) -> CompletionSequence {
        CompletionSequence(ids: TruncationMode.keepStart.truncate(prompt + completion, to: maxLength),
                           completionStart: maxLength.map { Swift.min(prompt.count, $0) } ?? prompt.count)
    }
}
