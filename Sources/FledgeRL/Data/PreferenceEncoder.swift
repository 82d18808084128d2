import FledgeLM

/// Tokenizes preference rows as TRL's `DPOTrainer` prepares them: EOS appended to plain-text
/// completions, prompt and prompt + completion tokenized separately (text with the tokenizer's
/// special tokens; messages through the chat template, the prompt with the generation prompt), the
/// completions starting where both tokenizations leave the prompt's, then each sequence truncated
/// to `max_length`.
public struct PreferenceEncoder {
    public let tokenizer: Tokenizer
    public let maxLength: Int?
    public let truncationMode: TruncationMode

    public init(tokenizer: Tokenizer, maxLength: Int?, truncationMode: TruncationMode) {
        self.tokenizer = tokenizer
        self.maxLength = maxLength
        self.truncationMode = truncationMode
    }

    /// The tokenized pair, or nil when TRL drops the row: with `keep_start`, a prompt of
    /// `max_length` tokens or more leaves no completion token. A template that fails throws
    /// `TemplateError`; a tokenizer without EOS throws ``DatasetError``.
    public func encode(_ example: PreferenceExample) throws -> PreferencePair? {
        let promptIds: [Int], chosenIds: [Int], rejectedIds: [Int]
        switch example {
        case let .text(prompt, chosen, rejected):
            (promptIds, chosenIds) = try TRLTokenization.promptAndSequence(prompt: prompt, completion: chosen, tokenizer: tokenizer)
            rejectedIds = try TRLTokenization.promptAndSequence(prompt: prompt, completion: rejected, tokenizer: tokenizer).sequence
        case let .conversation(prompt, chosen, rejected):
            (promptIds, chosenIds) = try TRLTokenization.promptAndSequence(prompt: prompt, completion: chosen, tokenizer: tokenizer)
            rejectedIds = try TRLTokenization.promptAndSequence(prompt: prompt, completion: rejected, tokenizer: tokenizer).sequence
        }
        let promptLength = Swift.min(TRLTokenization.commonPrefixLength(promptIds, chosenIds),
                                     TRLTokenization.commonPrefixLength(promptIds, rejectedIds))
        if let maxLength, truncationMode == .keepStart, promptLength >= maxLength { return nil }
        return PreferencePair(chosen: truncated(chosenIds, promptLength: promptLength),
                              rejected: truncated(rejectedIds, promptLength: promptLength))
    }

    private func truncated(_ ids: [Int], promptLength: Int) -> CompletionSequence {
        let kept = truncationMode.truncate(ids, to: maxLength)
        let cut = truncationMode == .keepEnd ? ids.count - kept.count : 0
        return CompletionSequence(ids: kept, completionStart: Swift.min(Swift.max(promptLength - cut, 0), kept.count))
    }
}
