import Foundation
import FledgeRL
import FuzzSupport

/// What the rows are read with.
enum Setup {
    /// A character-level tokenizer over printable ASCII with a chat template that marks assistant
    /// replies, written once into the scratch directory.
    static let tokenizer: Tokenizer = {
        let directory = ScratchDirectory.url.appendingPathComponent("tokenizer")
        try! FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try! CharacterTokenizerFile.write(alphabet: (32..<127).map { Character(Unicode.Scalar(UInt8($0))) }, to: directory)
        let template = """
            {% for message in messages %}{{ message['role'] }}: {% if message['role'] == 'assistant' %}{% generation %}\
            {{ message['content'] }}{{ eos_token }}{% endgeneration %}{% else %}{{ message['content'] }}{% endif %}
            {% endfor %}{% if add_generation_prompt %}assistant: {% endif %}
            """
        try! Data(template.utf8).write(to: directory.appendingPathComponent("chat_template.jinja"))
        return try! Tokenizer(directory: directory.path)
    }()

    /// SFT settings that reach every branch: completion-only and assistant-only loss, truncation.
    static let sftConfigs: [SFTConfig] = {
        var masked = SFTConfig()
        masked.assistantOnlyLoss = true
        masked.maxLength = 8
        masked.truncationMode = .keepEnd
        return [SFTConfig(), masked]
    }()
}

/// A JSON Lines dataset read as each trainer reads it: prompts (GRPO, RLOO, PPO), SFT rows (text,
/// prompt/completion, messages), preference rows (DPO) and reward-modelling rows (explicit or implicit
/// prompts, token ids, margins), tokenized with a chat template.
func fuzzDatasetRow(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let file = ScratchDirectory.write(fuzzInput(data, size), to: "train.jsonl")
    _ = try? PromptDataset(file: file, tokenizer: Setup.tokenizer)
    for config in Setup.sftConfigs { _ = try? SFTDataset(file: file, tokenizer: Setup.tokenizer, config: config) }
    for maxLength in [nil, 4] {
        for mode in [TruncationMode.keepStart, .keepEnd] {
            let encoder = PreferenceEncoder(tokenizer: Setup.tokenizer, maxLength: maxLength, truncationMode: mode)
            _ = try? PreferenceDataset(file: file, encoder: encoder)
        }
        _ = try? RewardDataset(file: file, encoder: RewardEncoder(tokenizer: Setup.tokenizer, maxLength: maxLength))
    }
    return 0
}

runFuzzer(fuzzDatasetRow)
