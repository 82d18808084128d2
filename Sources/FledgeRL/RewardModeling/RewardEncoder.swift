import FledgeLM

/// Tokenizes reward-modelling rows as TRL's `RewardTrainer._prepare_dataset` does: EOS appended to
/// plain-text answers that lack it, an explicit prompt joined before each answer (text, or message
/// lists), then each whole sequence tokenized on its own — text with the tokenizer's special tokens,
/// messages through the chat template without a generation prompt. Pairs with a sequence longer than
/// `maxLength` are left out, not truncated.
public struct RewardEncoder {
    public let tokenizer: Tokenizer
    public let maxLength: Int?

    public init(tokenizer: Tokenizer, maxLength: Int?) {
        self.tokenizer = tokenizer
        self.maxLength = maxLength
    }

    /// The tokenized pair, or nil when a sequence is longer than `maxLength`. A template that fails
    /// throws `TemplateError`; a tokenizer without EOS throws `DatasetError`.
    public func encode(_ example: RewardExample) throws -> RewardPair? {
        let chosen: [Int], rejected: [Int]
        switch example.content {
        case let .text(prompt, chosenText, rejectedText):
            let prefix = prompt ?? ""
            chosen = tokenizer.encode(prefix + (try TRLTokenization.endingWithEOS(chosenText, tokenizer: tokenizer)), addSpecialTokens: true)
            rejected = tokenizer.encode(prefix + (try TRLTokenization.endingWithEOS(rejectedText, tokenizer: tokenizer)), addSpecialTokens: true)
        case let .conversation(prompt, chosenMessages, rejectedMessages):
            chosen = try tokenizer.applyChatTemplate(messages: (prompt ?? []) + chosenMessages).ids
            rejected = try tokenizer.applyChatTemplate(messages: (prompt ?? []) + rejectedMessages).ids
        case let .tokens(chosenIds, rejectedIds):
            (chosen, rejected) = (chosenIds, rejectedIds)
        }
        if let maxLength, chosen.count > maxLength || rejected.count > maxLength { return nil }
        return RewardPair(chosen: chosen, rejected: rejected, margin: example.margin)
    }
}
