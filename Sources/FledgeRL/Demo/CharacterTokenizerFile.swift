import Foundation
import FledgeLM

/// A `tokenizer.json` (and `tokenizer_config.json`) for a character-level vocabulary: a BPE model
/// with one token per character and no merges, plus `<pad>` (id 0) and an end-of-sequence token
/// (id 1, `<eos>` unless named otherwise) as special added tokens, and any further added tokens. The files load in Fledge's `Tokenizer` and in Hugging Face `tokenizers` alike.
public enum CharacterTokenizerFile {
    /// The padding token's id.
    public static let padId = 0
    /// The end-of-sequence token's id.
    public static let eosId = 1

    /// An added token beyond `<pad>` and the end-of-sequence token: a control token of a chat template
    /// (`special` like Qwen's `<|im_start|>`, or not, like its `<tool_call>`) or a multi-character
    /// word that encodes as one token.
    public struct AddedToken: Sendable {
        public let content: String
        public let special: Bool

        public init(_ content: String, special: Bool) {
            self.content = content
            self.special = special
        }
    }

    /// Writes `tokenizer.json` and `tokenizer_config.json` for `alphabet` into `directory`;
    /// character `alphabet[i]` gets id `i + 2`, `addedTokens[j]` id `alphabet.count + 2 + j`. The
    /// end-of-sequence token (id 1) is spelled `eosToken`; `chatTemplate` goes into
    /// `tokenizer_config.json`. Returns the vocabulary size.
    @discardableResult
    public static func write(alphabet: [Character], to directory: URL, eosToken: String = "<eos>",
                             addedTokens: [AddedToken] = [], chatTemplate: String? = nil, modelMaxLength: Int = 64) throws -> Int {
        precondition(Set(alphabet).count == alphabet.count, "CharacterTokenizerFile: repeated characters in the alphabet")
        var vocabulary: JSONObject = ["<pad>": .int(padId), eosToken: .int(eosId)]
        for (index, character) in alphabet.enumerated() { vocabulary[String(character)] = .int(index + 2) }
        func added(_ content: String, _ id: Int, special: Bool) -> JSONValue {
            ["id": .int(id), "content": .string(content), "single_word": false, "lstrip": false, "rstrip": false,
             "normalized": false, "special": .bool(special)]
        }
        var addedList = [added("<pad>", padId, special: true), added(eosToken, eosId, special: true)]
        for (index, token) in addedTokens.enumerated() {
            let id = alphabet.count + 2 + index
            precondition(vocabulary[token.content] == nil, "CharacterTokenizerFile: '\(token.content)' is in the vocabulary twice")
            vocabulary[token.content] = .int(id)
            addedList.append(added(token.content, id, special: token.special))
        }
        let tokenizer: JSONValue = [
            "version": "1.0",
            "truncation": nil, "padding": nil,
            "added_tokens": .array(addedList),
            "normalizer": nil, "pre_tokenizer": nil, "post_processor": nil, "decoder": ["type": "Fuse"],
            "model": ["type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil,
                      "end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                      "vocab": .object(vocabulary), "merges": []],
        ]
        var config: JSONObject = [
            "tokenizer_class": "PreTrainedTokenizerFast", "eos_token": .string(eosToken), "pad_token": "<pad>",
            "model_max_length": .int(modelMaxLength), "clean_up_tokenization_spaces": false,
        ]
        if let chatTemplate { config["chat_template"] = .string(chatTemplate) }
        let writer = JSONWriter(indent: 2, sortKeys: true)
        try AtomicFile.write(Data(writer.string(tokenizer).utf8), to: directory.appendingPathComponent("tokenizer.json"))
        try AtomicFile.write(Data(writer.string(.object(config)).utf8), to: directory.appendingPathComponent("tokenizer_config.json"))
        return vocabulary.count
    }
}
