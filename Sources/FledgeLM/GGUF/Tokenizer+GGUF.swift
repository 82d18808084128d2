import Foundation
import FledgeTensor

extension Tokenizer {
    /// The tokenizer of a GGUF file (`tokenizer.ggml.*`), as transformers builds it from the same
    /// file: a byte-level BPE vocabulary (`tokenizer.ggml.model` `gpt2`) with its merges, split as
    /// `tokenizer.ggml.pre` says (`GGUFPreTokenizer`), control tokens as special added tokens and
    /// user-defined ones as plain added tokens, the special tokens and `add_bos_token` /
    /// `add_eos_token` from their keys, and the chat templates from `tokenizer.chat_template` (and
    /// `tokenizer.chat_template.NAME`).
    public convenience init(gguf url: URL) throws(TokenizerError) {
        let file: GGUFFile
        do { file = try GGUFFile(url: url) } catch { throw .invalidGGUF(error) }
        try self.init(gguf: file)
    }

    /// The tokenizer of an open GGUF file.
    public convenience init(gguf file: GGUFFile) throws(TokenizerError) {
        do { try self.init(readingGGUF: file) } catch let error as TokenizerError { throw error } catch let error as GGUFError {
            throw .invalidGGUF(error)
        } catch {
            throw .unreadableFile(path: file.url.path, reason: "\(error)")
        }
    }

    private convenience init(readingGGUF file: GGUFFile) throws {
        let path = file.url.path
        let model = try file.required("tokenizer.ggml.model", file.string, hint: "the file has no tokenizer; pass a tokenizer directory")
        guard model == "gpt2" else {
            throw TokenizerError.unsupported(path: path, field: "tokenizer.ggml.model",
                                             what: "'\(model)' (Fledge reads byte-level BPE vocabularies, 'gpt2', from GGUF)")
        }
        let tokens = try file.required("tokenizer.ggml.tokens", file.strings, hint: "a GGUF tokenizer lists its tokens there")
        let merges = try file.required("tokenizer.ggml.merges", file.strings, hint: "a byte-level BPE vocabulary needs its merges")
        let types = try file.integers("tokenizer.ggml.token_type") ?? []
        guard types.isEmpty || types.count == tokens.count else {
            throw TokenizerError.invalidField(path: path, field: "tokenizer.ggml.token_type",
                                              problem: "has \(types.count) entries for \(tokens.count) tokens; it needs one per token")
        }
        guard tokens.count < Tokenizer.validIDs.upperBound else {
            throw TokenizerError.invalidField(path: path, field: "tokenizer.ggml.tokens",
                                              problem: "has \(tokens.count) tokens, more than the \(Tokenizer.validIDs.upperBound) Fledge reads")
        }
        let pre = try file.string("tokenizer.ggml.pre")
        guard let splits = GGUFPreTokenizer.splits(pre) else {
            throw TokenizerError.unsupported(path: path, field: "tokenizer.ggml.pre", what: "pre-tokenizer '\(pre ?? "")' "
                + "(Fledge knows \(GGUFPreTokenizer.knownNames.joined(separator: ", ")))")
        }
        var config = TokenizerConfig()
        for (name, key) in [("bos_token", "bos_token_id"), ("eos_token", "eos_token_id"), ("unk_token", "unknown_token_id"),
                            ("pad_token", "padding_token_id")] {
            guard let id = try file.integer("tokenizer.ggml." + key) else { continue }
            guard tokens.indices.contains(id) else {
                throw TokenizerError.invalidField(path: path, field: "tokenizer.ggml." + key,
                                                  problem: "is \(id), outside the \(tokens.count) tokens")
            }
            config.specialTokens[name] = tokens[id]
        }
        config.addBOSToken = try file.bool("tokenizer.ggml.add_bos_token")
        config.addEOSToken = try file.bool("tokenizer.ggml.add_eos_token")
        if let template = try file.string("tokenizer.chat_template") { config.chatTemplates["default"] = template }
        for (key, _) in file.metadataEntries where key.hasPrefix("tokenizer.chat_template.") {
            config.chatTemplates[String(key.dropFirst("tokenizer.chat_template.".count))] = try file.string(key)
        }
        let root = Self.tokenizerJSON(tokens: tokens, types: types, merges: merges, preTokenizer: GGUFPreTokenizer.json(splits))
        try self.init(root: root, path: "\(path) (tokenizer.ggml.*)", config: config)
    }

    /// llama.cpp's token types: 3 is a control token, 4 a user-defined one.
    private static let controlType = 3, userDefinedType = 4

    /// The tokenizer.json transformers' GGUF converter builds: each token spelled in the byte-level
    /// alphabet (one with other characters, like a user-defined `hello world`, respelled from its
    /// UTF-8 bytes; a later token of the same spelling wins), control tokens written in the
    /// alphabet as special added tokens, and user-defined tokens whose text is a vocabulary entry as
    /// plain added tokens.
    private static func tokenizerJSON(tokens: [String], types: [Int], merges: [String], preTokenizer: JSONValue) -> JSONValue {
        var vocabulary = JSONObject()
        for (id, token) in tokens.enumerated() {
            let spelled = ByteLevelAlphabet.decode(token) != nil
                ? token : String(String.UnicodeScalarView(token.utf8.map { ByteLevelAlphabet.characters[Int($0)] }))
            vocabulary[spelled] = .int(id)
        }
        func added(_ token: String, special: Bool) -> JSONValue? {
            guard case .int(let id) = vocabulary[token] else { return nil }
            return .object(JSONObject([("id", .int(id)), ("content", .string(token)), ("single_word", .bool(false)),
                                       ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(false)),
                                       ("special", .bool(special))]))
        }
        let typed = zip(tokens, types)
        let addedTokens = typed.filter { $0.1 == controlType && ByteLevelAlphabet.decode($0.0) != nil }.compactMap { added($0.0, special: true) }
            + typed.filter { $0.1 == userDefinedType }.compactMap { added($0.0, special: false) }
        let model = JSONObject([("type", .string("BPE")), ("vocab", .object(vocabulary)),
                                ("merges", .array(merges.map(JSONValue.string)))])
        return .object(JSONObject([
            ("added_tokens", .array(addedTokens)), ("normalizer", .null), ("pre_tokenizer", preTokenizer),
            ("post_processor", .null), ("decoder", .object(JSONObject([("type", .string("ByteLevel"))]))),
            ("model", .object(model)),
        ]))
    }
}
