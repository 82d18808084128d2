import FledgeTensor

/// The tokenizer.json transformers' GGUF converter builds from a GGUF vocabulary, for the two kinds
/// Fledge reads. In both, control tokens (llama.cpp token type 3) become special added tokens and
/// user-defined ones (type 4) whose text is a vocabulary entry plain added tokens; a repeated
/// token keeps the last id.
enum GGUFVocabulary {
    private static let controlType = 3, userDefinedType = 4

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

    /// A SentencePiece BPE vocabulary (`llama`), as transformers' `LlamaTokenizer`: byte fallback
    /// and fused unknowns, Metaspace (`▁`, prepended to the first piece), and the decoder that turns
    /// `▁` back into spaces, byte tokens into bytes and drops the leading space.
    static func sentencePiece(tokens: [String], types: [Int], merges: [(String, String)]) -> JSONValue {
        func object(_ entries: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(entries)) }
        let preTokenizer = object([("type", .string("Metaspace")), ("replacement", .string("\u{2581}")),
                                   ("prepend_scheme", .string("first")), ("split", .bool(false))])
        let decoder = object([("type", .string("Sequence")), ("decoders", .array([
            object([("type", .string("Replace")), ("pattern", object([("String", .string("\u{2581}"))])), ("content", .string(" "))]),
            object([("type", .string("ByteFallback"))]),
            object([("type", .string("Fuse"))]),
            object([("type", .string("Strip")), ("content", .string(" ")), ("start", .int(1)), ("stop", .int(0))]),
        ]))])
        return tokenizer(vocabulary: tokens, added: addedTokens(tokens: tokens, types: types, vocabulary: tokens, control: { _ in true }),
                         model: [("fuse_unk", .bool(true)), ("byte_fallback", .bool(true))],
                         merges: merges.map { .array([.string($0.0), .string($0.1)]) }, preTokenizer: preTokenizer, decoder: decoder)
    }

    /// Control tokens that `control` accepts, then user-defined tokens present in `vocabulary`.
    private static func addedTokens(tokens: [String], types: [Int], vocabulary: [String], control: (String) -> Bool) -> [JSONValue] {
        let ids = ids(vocabulary)
        func added(_ token: String, special: Bool) -> JSONValue? {
            guard let id = ids[ExactString(token)] else { return nil }
            return .object(JSONObject([("id", .int(id)), ("content", .string(token)), ("single_word", .bool(false)),
                                       ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(false)),
                                       ("special", .bool(special))]))
        }
        let typed = zip(tokens, types)
        return typed.filter { $0.1 == controlType && control($0.0) }.compactMap { added($0.0, special: true) }
            + typed.filter { $0.1 == userDefinedType }.compactMap { added($0.0, special: false) }
    }

    private static func tokenizer(vocabulary: [String], added: [JSONValue], model options: [(String, JSONValue)], merges: [JSONValue],
                                  preTokenizer: JSONValue, decoder: JSONValue) -> JSONValue {
        var entries = JSONObject()
        for (id, token) in vocabulary.enumerated() { entries[token] = .int(id) }
        let model = JSONObject([("type", .string("BPE")), ("vocab", .object(entries)), ("merges", .array(merges))] + options)
        return .object(JSONObject([
            ("added_tokens", .array(added)), ("normalizer", .null), ("pre_tokenizer", preTokenizer), ("post_processor", .null),
            ("decoder", decoder), ("model", .object(model)),
        ]))
    }
}
