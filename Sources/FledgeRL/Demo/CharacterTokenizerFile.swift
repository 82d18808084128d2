import Foundation

/// A `tokenizer.json` (and `tokenizer_config.json`) for a character-level vocabulary: a BPE model
/// with one token per character and no merges, plus `<pad>` (id 0) and `<eos>` (id 1) as special
/// added tokens. The files load in Fledge's `Tokenizer` and in Hugging Face `tokenizers` alike.
public enum CharacterTokenizerFile {
    /// The padding token's id.
    public static let padId = 0
    /// The end-of-sequence token's id.
    public static let eosId = 1

    /// Writes `tokenizer.json` and `tokenizer_config.json` for `alphabet` into `directory`;
    /// character `alphabet[i]` gets id `i + 2`. Returns the vocabulary size.
    @discardableResult
    public static func write(alphabet: [Character], to directory: URL) throws -> Int {
        precondition(Set(alphabet).count == alphabet.count, "CharacterTokenizerFile: repeated characters in the alphabet")
        var vocabulary: [String: Int] = ["<pad>": padId, "<eos>": eosId]
        for (index, character) in alphabet.enumerated() { vocabulary[String(character)] = index + 2 }
        func special(_ content: String, _ id: Int) -> [String: Any] {
            ["id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false,
             "normalized": false, "special": true]
        }
        let tokenizer: [String: Any] = [
            "version": "1.0",
            "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": [special("<pad>", padId), special("<eos>", eosId)],
            "normalizer": NSNull(), "pre_tokenizer": NSNull(), "post_processor": NSNull(), "decoder": ["type": "Fuse"],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                      "vocab": vocabulary, "merges": [String]()] as [String: Any],
        ]
        let config: [String: Any] = [
            "tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<eos>", "pad_token": "<pad>",
            "model_max_length": 64, "clean_up_tokenization_spaces": false,
        ]
        let options: JSONSerialization.WritingOptions = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(JSONSerialization.data(withJSONObject: tokenizer, options: options),
                             to: directory.appendingPathComponent("tokenizer.json"))
        try AtomicFile.write(JSONSerialization.data(withJSONObject: config, options: options),
                             to: directory.appendingPathComponent("tokenizer_config.json"))
        return vocabulary.count
    }
}
