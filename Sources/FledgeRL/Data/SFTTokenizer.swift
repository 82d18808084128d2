import Foundation
import FledgeLM

extension SFTConfig {
    /// `tokenizer` with what the config changes in it, as TRL's `SFTTrainer` does before tokenizing:
    /// `eos_token` (which must be in the vocabulary) becomes the tokenizer's EOS token, and the
    /// `chat_template_path` file becomes its chat template. Errors name the field.
    public func preparedTokenizer(_ tokenizer: Tokenizer) throws -> Tokenizer {
        try tokenizer.prepared(eosToken: eosToken, chatTemplatePath: chatTemplatePath)
    }
}
