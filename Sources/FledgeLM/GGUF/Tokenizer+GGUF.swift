import Foundation
import FledgeTensor

extension Tokenizer {
    /// The tokenizer of a GGUF file (`tokenizer.ggml.*`), as transformers builds it from the same
    /// file (`GGUFVocabulary`): a byte-level BPE vocabulary (`tokenizer.ggml.model` `gpt2`) with its
    /// merges, split as `tokenizer.ggml.pre` says (`GGUFPreTokenizer`), or a SentencePiece BPE
    /// vocabulary (`llama`, shaped for Llama, Gemma or Phi-3 as transformers shapes it) with its merges
    /// or merges rebuilt from its scores (`SentencePieceMerges`); the special tokens and `add_bos_token` / `add_eos_token` from their
    /// keys, and the chat templates from `tokenizer.chat_template` (and `tokenizer.chat_template.NAME`).
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
        let (root, config) = try Self.ggufDefinition(file)
        try self.init(root: root, path: "\(file.url.path) (tokenizer.ggml.*)", config: config)
    }

    /// The tokenizer.json root and tokenizer_config.json settings that `tokenizer.ggml.*` describe
    /// (also what `fledge export` writes into a model directory made from a GGUF file).
    static func ggufDefinition(_ file: GGUFFile) throws -> (root: JSONValue, config: TokenizerConfig) {
        let path = file.url.path
        let model = try file.required("tokenizer.ggml.model", file.string, hint: "the file has no tokenizer; pass a tokenizer directory")
        guard model == "gpt2" || model == "llama" else {
            throw TokenizerError.unsupported(path: path, field: "tokenizer.ggml.model", what: "'\(model)' (Fledge reads byte-level "
                + "BPE vocabularies, 'gpt2', and SentencePiece BPE vocabularies, 'llama', from GGUF)")
        }
        let tokens = try file.required("tokenizer.ggml.tokens", file.strings, hint: "a GGUF tokenizer lists its tokens there")
        let types = try file.integers("tokenizer.ggml.token_type") ?? []
        try Self.checkCount(types.count, of: "tokenizer.ggml.token_type", tokens: tokens.count, path: path)
        guard tokens.count < Tokenizer.validIDs.upperBound else {
            throw TokenizerError.invalidField(path: path, field: "tokenizer.ggml.tokens",
                                              problem: "has \(tokens.count) tokens, more than the \(Tokenizer.validIDs.upperBound) Fledge reads")
        }
        let root = model == "gpt2"
            ? try Self.byteLevelJSON(file, tokens: tokens, types: types) : try Self.sentencePieceJSON(file, tokens: tokens, types: types)
        return (root, try Self.config(file, tokens: tokens, model: model))
    }

    /// tokenizer.json of a byte-level BPE vocabulary: its merges, split as `tokenizer.ggml.pre` says.
    private static func byteLevelJSON(_ file: GGUFFile, tokens: [String], types: [Int]) throws -> JSONValue {
        let merges = try file.required("tokenizer.ggml.merges", file.strings, hint: "a byte-level BPE vocabulary needs its merges")
        let pre = try file.string("tokenizer.ggml.pre")
        guard let splits = GGUFPreTokenizer.splits(pre) else {
            throw TokenizerError.unsupported(path: file.url.path, field: "tokenizer.ggml.pre", what: "pre-tokenizer '\(pre ?? "")' "
                + "(Fledge knows \(GGUFPreTokenizer.knownNames.joined(separator: ", ")))")
        }
        return GGUFVocabulary.byteLevel(tokens: tokens, types: types, merges: merges, preTokenizer: GGUFPreTokenizer.json(splits))
    }

    /// tokenizer.json of a SentencePiece BPE vocabulary in the style transformers gives
    /// `general.architecture` (`GGUFVocabulary.SentencePieceStyle`): its listed merges, or merges
    /// rebuilt from its scores (for Gemma, whose scores do not follow its merge order, from the
    /// tokens' order, as transformers does).
    private static func sentencePieceJSON(_ file: GGUFFile, tokens: [String], types: [Int]) throws -> JSONValue {
        let path = file.url.path
        let style = GGUFVocabulary.SentencePieceStyle(architecture: try file.string("general.architecture") ?? "")
        let spelled = style.spelled(tokens)
        let merges: [(String, String)]
        if let listed = try file.strings("tokenizer.ggml.merges") {
            merges = try listed.enumerated().map { index, merge in
                let parts = merge.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw TokenizerError.invalidField(path: path, field: "tokenizer.ggml.merges",
                                                      problem: "entry \(index) is '\(merge)', not two tokens separated by a space")
                }
                return (String(parts[0]), String(parts[1]))
            }
        } else if style == .gemma {
            merges = SentencePieceMerges.merges(tokens: spelled, scores: spelled.indices.map { -Double($0) }, ids: GGUFVocabulary.ids(spelled))
        } else {
            let scores = try file.required("tokenizer.ggml.scores", file.numbers, hint: "a SentencePiece vocabulary without merges needs its scores")
            try checkCount(scores.count, of: "tokenizer.ggml.scores", tokens: tokens.count, path: path)
            merges = SentencePieceMerges.merges(tokens: tokens, scores: scores, ids: GGUFVocabulary.ids(tokens))
        }
        let unknown = try file.integer("tokenizer.ggml.unknown_token_id").flatMap { tokens.indices.contains($0) ? tokens[$0] : nil }
        return GGUFVocabulary.sentencePiece(tokens: tokens, types: types, merges: merges, style: style, unknown: unknown)
    }

    /// The special tokens (from their ids), whether to add BOS and EOS, and the chat templates.
    private static func config(_ file: GGUFFile, tokens: [String], model: String) throws -> TokenizerConfig {
        var config = TokenizerConfig()
        for (name, key) in [("bos_token", "bos_token_id"), ("eos_token", "eos_token_id"), ("unk_token", "unknown_token_id"),
                            ("pad_token", "padding_token_id")] {
            guard let id = try file.integer("tokenizer.ggml." + key) else { continue }
            guard tokens.indices.contains(id) else {
                throw TokenizerError.invalidField(path: file.url.path, field: "tokenizer.ggml." + key,
                                                  problem: "is \(id), outside the \(tokens.count) tokens")
            }
            config.specialTokens[name] = tokens[id]
        }
        // llama.cpp adds BOS to a SentencePiece vocabulary that does not say otherwise; so does transformers.
        config.addBOSToken = try file.bool("tokenizer.ggml.add_bos_token") ?? (model == "llama" ? true : nil)
        config.addEOSToken = try file.bool("tokenizer.ggml.add_eos_token")
        if let template = try file.string("tokenizer.chat_template") { config.chatTemplates["default"] = template }
        for (key, _) in file.metadataEntries where key.hasPrefix("tokenizer.chat_template.") {
            config.chatTemplates[String(key.dropFirst("tokenizer.chat_template.".count))] = try file.string(key)
        }
        return config
    }

    /// Throws unless a per-token list has one entry per token (or none).
    private static func checkCount(_ count: Int, of key: String, tokens: Int, path: String) throws(TokenizerError) {
        guard count == 0 || count == tokens else {
            throw .invalidField(path: path, field: key, problem: "has \(count) entries for \(tokens) tokens; it needs one per token")
        }
    }
}
