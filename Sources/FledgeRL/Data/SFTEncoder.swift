import FledgeLM

/// A tokenized SFT example, or a packed row of several (TRL's `input_ids`, `labels` and
/// `seq_lengths`): its ids, which of them the loss trains on (TRL's labels that are not -100), and
/// the lengths of the documents it holds. Tokens attend only within their document and positions
/// restart at each; the first token of a document is never a target: nothing in it comes before.
public struct SFTSequence: Equatable, Sendable {
    public var ids: [Int]
    /// One flag per id.
    public var trained: [Bool]
    /// The lengths of the row's documents, summing to `ids.count`; one for an unpacked example.
    public var documentLengths: [Int]

    /// A row of `ids` and their `trained` flags made of documents of `documentLengths` (nil: one document).
    public init(ids: [Int], trained: [Bool], documentLengths: [Int]? = nil) {
        precondition(ids.count == trained.count, "SFTSequence: \(ids.count) ids and \(trained.count) flags")
        let lengths = documentLengths ?? [ids.count]
        precondition(lengths.reduce(0, +) == ids.count, "SFTSequence: documents of \(lengths) for \(ids.count) ids")
        self.ids = ids
        self.trained = trained
        self.documentLengths = lengths
    }

    /// The row's documents, each with its own ids and flags.
    public var documents: [SFTSequence] {
        guard documentLengths.count > 1 else { return [self] }
        var start = 0
        return documentLengths.map { length in
            defer { start += length }
            return SFTSequence(ids: Array(ids[start..<start + length]), trained: Array(trained[start..<start + length]))
        }
    }

    /// Loss targets: trained tokens after the first of each document.
    public var targetCount: Int {
        var count = 0, start = 0
        for length in documentLengths {
            if length > 1 { count += trained[start + 1..<start + length].lazy.filter { $0 }.count }
            start += length
        }
        return count
    }
}

/// Tokenizes SFT rows as TRL's `SFTTrainer` prepares its dataset: EOS appended to plain text and
/// string completions, chat templates for messages, the completion starting where the tokenized
/// prompt and prompt+completion diverge, assistant tokens from the template's `{% generation %}`
/// marks, then truncation to `max_length`.
public struct SFTEncoder {
    public let tokenizer: Tokenizer
    /// Train only on completion tokens of rows with a prompt.
    public let completionOnlyLoss: Bool
    /// Train only on the assistant text of conversations (the template's `{% generation %}` blocks).
    public let assistantOnlyLoss: Bool
    public let maxLength: Int?
    public let truncationMode: TruncationMode

    public init(tokenizer: Tokenizer, completionOnlyLoss: Bool, assistantOnlyLoss: Bool, maxLength: Int?,
                truncationMode: TruncationMode) {
        self.tokenizer = tokenizer
        self.completionOnlyLoss = completionOnlyLoss
        self.assistantOnlyLoss = assistantOnlyLoss
        self.maxLength = maxLength
        self.truncationMode = truncationMode
    }

    /// The tokenized, truncated example; a template that fails to render throws `TemplateError`;
    /// plain text without a tokenizer EOS token, and assistant masks the template or tokenizer
    /// cannot give, throw ``DatasetError`` (without a line; the caller adds it).
    public func encode(_ example: SFTExample) throws -> SFTSequence {
        let sequence: SFTSequence
        switch example {
        case .text(let text):
            let ids = tokenizer.encode(try TRLTokenization.endingWithEOS(text, tokenizer: tokenizer), addSpecialTokens: true)
            sequence = SFTSequence(ids: ids, trained: Array(repeating: true, count: ids.count))
        case let .promptCompletion(prompt, completion):
            let promptIds = tokenizer.encode(prompt, addSpecialTokens: true)
            let ids = tokenizer.encode(prompt + (try TRLTokenization.endingWithEOS(completion, tokenizer: tokenizer)),
                                       addSpecialTokens: true)
            sequence = split(ids, promptIds: promptIds)
        case .conversation(let messages):
            sequence = try conversation(messages)
        case let .conversationalPromptCompletion(prompt, completion):
            let promptIds = try tokenizer.applyChatTemplate(messages: prompt, addGenerationPrompt: true).ids
            let whole = try conversation(prompt + completion)
            let completionPart = split(whole.ids, promptIds: promptIds)
            sequence = SFTSequence(ids: whole.ids, trained: zip(whole.trained, completionPart.trained).map { $0 && $1 })
        }
        return truncated(sequence)
    }

    /// A conversation through the chat template, trained on every token or, with
    /// `assistant_only_loss`, on the assistant tokens.
    private func conversation(_ messages: [JSONValue]) throws -> SFTSequence {
        guard assistantOnlyLoss else {
            let ids = try tokenizer.applyChatTemplate(messages: messages).ids
            return SFTSequence(ids: ids, trained: Array(repeating: true, count: ids.count))
        }
        let (ids, mask) = try tokenizer.applyChatTemplateMaskingAssistant(messages: messages)
        guard let mask else {
            throw DatasetError(file: "tokenizer.json", "assistant_only_loss needs tokens that spell the rendered text "
                + "byte for byte (byte-level BPE); this tokenizer's normalizer or pre-tokenizer changes the text")
        }
        guard mask.contains(true) else {
            throw DatasetError(file: "tokenizer_config.json", "assistant_only_loss is on, but the chat template marks no "
                + "assistant text: it needs {% generation %} … {% endgeneration %} around assistant replies")
        }
        return SFTSequence(ids: ids, trained: mask)
    }

    /// Marks the completion: the tokens after the longest common prefix of the prompt's ids and the
    /// whole sequence's (TRL's `common_prefix_length`), when `completion_only_loss` is on.
    private func split(_ ids: [Int], promptIds: [Int]) -> SFTSequence {
        let promptLength = TRLTokenization.commonPrefixLength(ids, promptIds)
        let trained = ids.indices.map { !completionOnlyLoss || $0 >= promptLength }
        return SFTSequence(ids: ids, trained: trained)
    }

    private func truncated(_ sequence: SFTSequence) -> SFTSequence {
        SFTSequence(ids: truncationMode.truncate(sequence.ids, to: maxLength),
                    trained: truncationMode.truncate(sequence.trained, to: maxLength))
    }
}
