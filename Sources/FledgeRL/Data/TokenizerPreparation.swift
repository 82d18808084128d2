import Foundation
import FledgeLM

extension Tokenizer {
    /// The tokenizer with what a trainer config changes in it, as TRL's `SFTTrainer` and
    /// `RewardTrainer` do before tokenizing: `eosToken` (`eos_token`, which must be in the vocabulary)
    /// becomes its EOS token, and the `chatTemplatePath` file (`chat_template_path`, `.jinja` or
    /// `.j2`) its chat template; itself when both are nil. Errors name the field.
    public func prepared(eosToken: String?, chatTemplatePath: String?) throws -> Tokenizer {
        var config = self.config
        if let eosToken {
            guard id(of: eosToken) != nil else {
                throw TrainingError.invalidSetting("eos_token '\(eosToken)' is not in the tokenizer's vocabulary; give a token it has "
                    + "(e.g. '\(self.config.eosToken ?? "<|im_end|>")') or add the token to the tokenizer first")
            }
            config.specialTokens["eos_token"] = eosToken
        }
        if let chatTemplatePath {
            let url = URL(fileURLWithPath: chatTemplatePath)
            guard ["jinja", "j2"].contains(url.pathExtension.lowercased()) else {
                throw TrainingError.invalidSetting("chat_template_path '\(chatTemplatePath)' is not a .jinja or .j2 template file; "
                    + "Fledge reads a template file (copying a template from another tokenizer, which adds its special "
                    + "tokens and resizes the embeddings, is not implemented)")
            }
            let template: String
            do {
                template = try String(contentsOf: url, encoding: .utf8)
            } catch {
                throw TrainingError.invalidSetting("chat_template_path \(chatTemplatePath): cannot read the chat template: \(error.localizedDescription)")
            }
            do {
                _ = try ChatTemplate(template)
            } catch {
                throw TrainingError.invalidSetting("chat_template_path \(chatTemplatePath): the chat template does not parse: \(error)")
            }
            config.chatTemplates = ["default": template]
        }
        return eosToken == nil && chatTemplatePath == nil ? self : replacingConfig(config)
    }
}
