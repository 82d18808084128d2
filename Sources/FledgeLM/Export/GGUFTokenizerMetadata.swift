import Foundation
import FledgeTensor

/// The `tokenizer.ggml.*` and `tokenizer.chat_template` metadata of an exported GGUF file: copied
/// from the GGUF file a model was read from, or built from a model directory's byte-level BPE
/// tokenizer.json as convert_hf_to_gguf.py builds it (`gpt2` vocabulary, the `pre` name whose
/// split regexes llama.cpp runs, token types, merges, special ids, `add_bos_token`, templates).
enum GGUFTokenizerMetadata {
    private static let normalType = 1, controlType = 3, unusedType = 5

    /// Every `tokenizer.*` entry of `file`, as written there.
    static func entries(copiedFrom file: GGUFFile) -> [(String, GGUFValue)] {
        file.metadataEntries.filter { $0.key.hasPrefix("tokenizer.") }.map { ($0.key, $0.value) }
    }

    /// The entries for the tokenizer of `directory` (tokenizer.json and tokenizer_config.json),
    /// padded to `vocabularySize` tokens as the converter pads (`[PAD<id>]`, type unused).
    /// Errors name tokenizer.json and the field that llama.cpp cannot express.
    static func entries(directory: URL, tokenizer: Tokenizer, vocabularySize: Int, eosTokenId: Int?) throws -> [(String, GGUFValue)] {
        let url = directory.appendingPathComponent("tokenizer.json")
        let path = url.path
        let root = JSONField(try JSONParser.parse(Array(try Data(contentsOf: url))), file: path, path: "")
        let model = root["model"]
        guard try model.type() == "BPE" else {
            throw ModelError.invalidFile(path: path, problem: "has a '\(try model.type())' model; Fledge writes GGUF vocabularies of "
                + "byte-level BPE tokenizers only")
        }
        guard let splits = try preTokenizerSplits(root["pre_tokenizer"]),
              let pre = GGUFPreTokenizer.knownNames.first(where: { $0 != "default" && GGUFPreTokenizer.splits($0) == splits }) else {
            throw ModelError.invalidFile(path: path, problem: "its pre_tokenizer is not a byte-level split llama.cpp knows (as "
                + "tokenizer.ggml.pre: \(GGUFPreTokenizer.knownNames.joined(separator: ", "))); Fledge writes GGUF vocabularies of "
                + "byte-level BPE tokenizers only")
        }
        guard tokenizer.vocabularySize <= vocabularySize else {
            throw ModelError.invalidFile(path: path, problem: "has \(tokenizer.vocabularySize) tokens, more than the model's "
                + "vocab_size \(vocabularySize)")
        }
        var tokens: [GGUFValue] = [], types: [GGUFValue] = []
        for id in 0..<vocabularySize {
            let token = tokenizer.token(of: id)
            tokens.append(.string(token ?? "[PAD\(id)]"))
            types.append(.int32(Int32(token == nil ? unusedType : tokenizer.isSpecial(id) ? controlType : normalType)))
        }
        var merges: [GGUFValue] = []
        for merge in try model["merges"].array() {
            guard case .array = merge.value else {
                merges.append(.string(try merge.string()))
                continue
            }
            var pair: [String] = []
            for part in try merge.array() { pair.append(try part.string()) }
            merges.append(.string(pair.joined(separator: " ")))
        }
        var entries: [(String, GGUFValue)] = [
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string(pre)),
            ("tokenizer.ggml.tokens", .array(element: .string, values: tokens)),
            ("tokenizer.ggml.token_type", .array(element: .int32, values: types)),
            ("tokenizer.ggml.merges", .array(element: .string, values: merges)),
        ]
        let config = tokenizer.config
        let specialIds: [(String, Int?)] = [("bos_token_id", config.bosToken.flatMap(tokenizer.id(of:))),
                                            ("eos_token_id", config.eosToken.flatMap(tokenizer.id(of:)) ?? eosTokenId),
                                            ("unknown_token_id", config.specialTokens["unk_token"].flatMap(tokenizer.id(of:))),
                                            ("padding_token_id", config.padToken.flatMap(tokenizer.id(of:)))]
        entries += specialIds.compactMap { key, id in id.map { ("tokenizer.ggml." + key, GGUFValue.uint32(UInt32($0))) } }
        let probe = "a", plain = tokenizer.encode(probe), special = tokenizer.encode(probe, addSpecialTokens: true)
        entries.append(("tokenizer.ggml.add_bos_token", .bool(config.addBOSToken ?? (special.count > plain.count && special.first != plain.first))))
        if let add = config.addEOSToken { entries.append(("tokenizer.ggml.add_eos_token", .bool(add))) }
        for (name, template) in config.chatTemplates.sorted(by: { $0.key < $1.key }) {
            entries.append((name == "default" ? "tokenizer.chat_template" : "tokenizer.chat_template.\(name)", .string(template)))
        }
        return entries
    }

    /// The split regexes a tokenizer.json `pre_tokenizer` runs (ByteLevel with `use_regex` being
    /// GPT-2's), nil for one that is not byte-level.
    private static func preTokenizerSplits(_ field: JSONField) throws -> [String]? {
        switch try field.type() {
        case "ByteLevel":
            return try field["use_regex"].bool(default: true) ? [SplitPattern.gpt2] : []
        case "Split":
            guard try field["behavior"].string() == "Isolated", try !field["invert"].bool(default: false),
                  case .object = field["pattern"].value, !field["pattern"]["Regex"].isNull else { return nil }
            return [try field["pattern"]["Regex"].string()]
        case "Sequence":
            var splits: [String] = []
            for step in try field["pretokenizers"].array() {
                guard let more = try preTokenizerSplits(step) else { return nil }
                splits += more
            }
            return splits.isEmpty ? nil : splits
        default:
            return nil
        }
    }
}
