import Foundation
import FledgeTensor

/// The tokenizer.json transformers' GGUF converter builds from a GGUF vocabulary, for the kinds
/// Fledge reads. In all, control tokens (llama.cpp token type 3) become special added tokens and
/// user-defined ones (type 4) whose text is a vocabulary entry plain added tokens; a repeated
/// token keeps the last id.
enum GGUFVocabulary {
    private static let controlType = 3, userDefinedType = 4

    /// How transformers shapes a SentencePiece-style (`llama`) vocabulary, by `general.architecture`
    /// (its `GGUF_SENTENCEPIECE_BUILDERS`).
    enum SentencePieceStyle {
        /// `LlamaTokenizer`: Metaspace puts `▁` before the first piece of the text.
        case llama
        /// Phi-3: a normalizer puts `▁` before every piece between added tokens (the legacy Llama 2
        /// form: `"  hi"` is `▁▁▁hi`), and turns spaces into `▁`.
        case phi3
        /// `GemmaTokenizer`: no `▁` prefix, spaces turned into `▁` by a normalizer, tokens of spaces
        /// alone (stored with real spaces) respelled with `▁`, and a decoder that keeps a leading space.
        case gemma

        /// The style of `architecture`.
        init(architecture: String) {
            switch architecture {
            case "gemma", "gemma2", "gemma3": self = .gemma
            case "phi3": self = .phi3
            default: self = .llama
            }
        }

        /// The vocabulary as transformers spells it: Gemma's tokens of whitespace with a space in
        /// them become as many `▁` as they have characters.
        func spelled(_ tokens: [String]) -> [String] {
            guard self == .gemma else { return tokens }
            return tokens.map { token in
                token.contains(" ") && token.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                    ? String(repeating: "\u{2581}", count: token.unicodeScalars.count) : token
            }
        }
    }

    /// The vocabulary of `tokens` as spelled: each token's last id.
    static func ids(_ tokens: [String]) -> [ExactString: Int] {
        Dictionary(tokens.enumerated().map { (ExactString($0.element), $0.offset) }, uniquingKeysWith: { $1 })
    }

    /// A byte-level BPE vocabulary (`gpt2`): each token spelled in the byte-level alphabet (one with
    /// other characters, like a user-defined `hello world`, respelled from its UTF-8 bytes), control
    /// tokens only when written in the alphabet; the ByteLevel decoder (with every field, as
    /// the tokenizers library needs them to read the tokenizer.json back).
    static func byteLevel(tokens: [String], types: [Int], merges: [String], preTokenizer: JSONValue) -> JSONValue {
        let spelled = tokens.map { token in
            ByteLevelAlphabet.decode(token) != nil
                ? token : String(String.UnicodeScalarView(token.utf8.map { ByteLevelAlphabet.characters[Int($0)] }))
        }
        let control = { (token: String) in ByteLevelAlphabet.decode(token) != nil }
        return tokenizer(vocabulary: spelled, added: addedTokens(tokens: tokens, types: types, vocabulary: spelled, control: control),
                         model: [], merges: merges.map(JSONValue.string), preTokenizer: preTokenizer,
                         decoder: .object(JSONObject([("type", .string("ByteLevel")), ("add_prefix_space", .bool(true)),
                                                      ("trim_offsets", .bool(true)), ("use_regex", .bool(true))])))
    }

    /// A SentencePiece BPE vocabulary (`llama`) in `style`, as transformers builds it: `tokens`
    /// spelled as `style.spelled` says, byte fallback and fused unknowns, `▁` for spaces (see
    /// `SentencePieceStyle`), the unknown token `unknown` special too, and the decoder that turns `▁`
    /// back into spaces and byte tokens into bytes (and, but for Gemma, drops the leading space).
    static func sentencePiece(tokens: [String], types: [Int], merges: [(String, String)], style: SentencePieceStyle,
                              unknown: String?) -> JSONValue {
        func object(_ entries: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(entries)) }
        let space = "\u{2581}"
        let toSpace = object([("type", .string("Replace")), ("pattern", object([("String", .string(" "))])), ("content", .string(space))])
        let normalizer: JSONValue, preTokenizer: JSONValue
        switch style {
        case .llama:
            normalizer = .null
            preTokenizer = object([("type", .string("Metaspace")), ("replacement", .string(space)),
                                   ("prepend_scheme", .string("first")), ("split", .bool(false))])
        case .phi3:
            normalizer = object([("type", .string("Sequence")), ("normalizers", .array([
                object([("type", .string("Prepend")), ("prepend", .string(space))]), toSpace]))])
            preTokenizer = .null
        case .gemma:
            normalizer = toSpace
            preTokenizer = object([("type", .string("Split")), ("pattern", object([("String", .string(" "))])),
                                   ("behavior", .string("MergedWithPrevious")), ("invert", .bool(false))])
        }
        var decoders = [
            object([("type", .string("Replace")), ("pattern", object([("String", .string(space))])), ("content", .string(" "))]),
            object([("type", .string("ByteFallback"))]),
            object([("type", .string("Fuse"))]),
        ]
        if style != .gemma {
            decoders.append(object([("type", .string("Strip")), ("content", .string(" ")), ("start", .int(1)), ("stop", .int(0))]))
        }
        let spelled = style.spelled(tokens)
        return tokenizer(vocabulary: spelled,
                         added: addedTokens(tokens: tokens, types: types, vocabulary: spelled, control: { _ in true }, unknown: unknown),
                         model: [("fuse_unk", .bool(true)), ("byte_fallback", .bool(true))],
                         merges: merges.map { .array([.string($0.0), .string($0.1)]) }, normalizer: normalizer, preTokenizer: preTokenizer,
                         decoder: object([("type", .string("Sequence")), ("decoders", .array(decoders))]))
    }

    /// Control tokens that `control` accepts and the `unknown` token (special, as transformers'
    /// SentencePiece tokenizers add their `unk_token`), then user-defined tokens present in `vocabulary`.
    private static func addedTokens(tokens: [String], types: [Int], vocabulary: [String], control: (String) -> Bool,
                                    unknown: String? = nil) -> [JSONValue] {
        let ids = ids(vocabulary)
        func added(_ token: String, special: Bool) -> JSONValue? {
            guard let id = ids[ExactString(token)] else { return nil }
            return .object(JSONObject([("id", .int(id)), ("content", .string(token)), ("single_word", .bool(false)),
                                       ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(false)),
                                       ("special", .bool(special))]))
        }
        let typed = zip(tokens, types)
        let special = typed.filter { $0.1 == controlType && control($0.0) }.map(\.0)
        let unknownToken = unknown.flatMap { special.contains($0) ? nil : $0 }
        return (special + (unknownToken.map { [$0] } ?? [])).compactMap { added($0, special: true) }
            + typed.filter { $0.1 == userDefinedType }.compactMap { added($0.0, special: false) }
    }

    private static func tokenizer(vocabulary: [String], added: [JSONValue], model options: [(String, JSONValue)], merges: [JSONValue],
                                  normalizer: JSONValue = .null, preTokenizer: JSONValue, decoder: JSONValue) -> JSONValue {
        var entries = JSONObject()
        for (id, token) in vocabulary.enumerated() { entries[token] = .int(id) }
        let model = JSONObject([("type", .string("BPE")), ("vocab", .object(entries)), ("merges", .array(merges))] + options)
        return .object(JSONObject([
            ("added_tokens", .array(added)), ("normalizer", normalizer), ("pre_tokenizer", preTokenizer), ("post_processor", .null),
            ("decoder", decoder), ("model", .object(model)),
        ]))
    }
}
