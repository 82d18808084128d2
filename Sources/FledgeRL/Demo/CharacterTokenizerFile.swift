import Foundation
import FledgeLM

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
        var vocabulary: JSONObject = ["<pad>": .int(padId), "<eos>": .int(eosId)]
        for (index, character) in alphabet.enumerated() { vocabulary[String(character)] = .int(index + 2) }
        func special(_ content: String, _ id: Int) -> JSONValue {
            ["id": .int(id), "content": .string(content), "single_word": false, "lstrip": false, "rstrip": false,
             "normalized": false, "special": true]
        }
        let tokenizer: JSONValue = [
            "version": "1.0",
            "truncation": nil, "padding": nil,
            "added_tokens": [special("<pad>", padId), special("<eos>", eosId)],
            "normalizer": nil, "pre_tokenizer": nil, "post_processor": nil, "decoder": ["type": "Fuse"],
            "model": ["type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil,
                      "end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                      "vocab": .object(vocabulary), "merges": []],
        ]
        let config: JSONValue = [
            "tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<eos>", "pad_token": "<pad>",
            "model_max_length": 64, "clean_up_tokenization_spaces": false,
        ]
        let writer = JSONWriter(indent: 2, sortKeys: true)
        try AtomicFile.write(Data(writer.string(tokenizer).utf8), to: directory.appendingPathComponent("tokenizer.json"))
        try AtomicFile.write(Data(writer.string(config).utf8), to: directory.appendingPathComponent("tokenizer_config.json"))
        return vocabulary.count
    }
}
