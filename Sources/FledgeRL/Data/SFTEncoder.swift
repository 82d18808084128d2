import FledgeLM

/// A tokenized SFT example: its ids, and which of them the loss trains on (TRL's labels that are
/// not -100). The first token is never a target: nothing comes before it.
public struct SFTSequence: Equatable, Sendable {
    public var ids: [Int]
    /// One flag per id.
    public var trained: [Bool]

    public init(ids: [Int], trained: [Bool]) {
        precondition(ids.count == trained.count, "SFTSequence: \(ids.count) ids and \(trained.count) flags")
        self.ids = ids
        self.trained = trained
    }

    /// Loss targets: trained tokens after the first.
    public var targetCount: Int { trained.dropFirst().filter { $0 }.count }
}

/// Tokenizes SFT rows as TRL's `SFTTrainer` prepares its dataset: EOS appended to plain text and
/// string completions, chat templates for messages, the completion starting where the tokenized
/// prompt and prompt+completion diverge, then truncation to `max_length`.
public struct SFTEncoder {
    public let tokenizer: Tokenizer
    /// Train only on completion tokens of rows with a prompt.
    public let completionOnlyLoss: Bool
    public let maxLength: Int?
    public let truncationMode: TruncationMode

    public init(tokenizer: Tokenizer, completionOnlyLoss: Bool, maxLength: Int?, truncationMode: TruncationMode) {
        self.tokenizer = tokenizer
        self.completionOnlyLoss = completionOnlyLoss
        self.maxLength = maxLength
        self.truncationMode = truncationMode
    }

    /// The tokenized, truncated example; a template that fails to render throws `TemplateError`,
    /// and plain text without a tokenizer EOS token throws ``DatasetError``.
    public func encode(_ example: SFTExample) throws -> SFTSequence {
        let sequence: SFTSequence
        switch example {
        case .text(let text):
            let ids = tokenizer.encode(try endingWithEOS(text), addSpecialTokens: true)
            sequence = SFTSequence(ids: ids, trained: Array(repeating: true, count: ids.count))
        case let .promptCompletion(prompt, completion):
            let promptIds = tokenizer.encode(prompt, addSpecialTokens: true)
            let ids = tokenizer.encode(prompt + (try endingWithEOS(completion)), addSpecialTokens: true)
            sequence = split(ids, promptIds: promptIds)
        case .conversation(let messages):
            let ids = try tokenizer.applyChatTemplate(messages: messages).ids
            sequence = SFTSequence(ids: ids, trained: Array(repeating: true, count: ids.count))
        case let .conversationalPromptCompletion(prompt, completion):
            let promptIds = try tokenizer.applyChatTemplate(messages: prompt, addGenerationPrompt: true).ids
            let ids = try tokenizer.applyChatTemplate(messages: prompt + completion).ids
            sequence = split(ids, promptIds: promptIds)
        }
        return truncated(sequence)
    }

    /// Marks the completion: the tokens after the longest common prefix of the prompt's ids and the
    /// whole sequence's (TRL's `common_prefix_length`), when `completion_only_loss` is on.
    private func split(_ ids: [Int], promptIds: [Int]) -> SFTSequence {
        let promptLength = zip(ids, promptIds).prefix { $0 == $1 }.count
        let trained = ids.indices.map { !completionOnlyLoss || $0 >= promptLength }
        return SFTSequence(ids: ids, trained: trained)
    }

    private func truncated(_ sequence: SFTSequence) -> SFTSequence {
        guard let maxLength, sequence.ids.count > maxLength else { return sequence }
        switch truncationMode {
        case .keepStart:
            return SFTSequence(ids: Array(sequence.ids.prefix(maxLength)), trained: Array(sequence.trained.prefix(maxLength)))
        case .keepEnd:
            return SFTSequence(ids: Array(sequence.ids.suffix(maxLength)), trained: Array(sequence.trained.suffix(maxLength)))
        }
    }

    /// TRL appends the EOS token's text to plain text and string completions that lack it.
    private func endingWithEOS(_ text: String) throws(DatasetError) -> String {
        guard let eos = tokenizer.config.eosToken else {
            throw DatasetError(file: "tokenizer_config.json", "the tokenizer has no eos_token, which SFT appends to text and "
                + "completions; set \"eos_token\" in the model's tokenizer_config.json")
        }
        return text.hasSuffix(eos) ? text : text + eos
    }
}
