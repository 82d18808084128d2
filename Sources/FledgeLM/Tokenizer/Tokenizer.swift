import Foundation
import Synchronization

/// A Hugging Face tokenizer loaded from `tokenizer.json` (and `tokenizer_config.json`), giving
/// exactly the ids and text that the `tokenizers` library and transformers give.
///
/// Encoding runs the same stages as `tokenizers`: added tokens are cut out first, the text
/// between them is normalized, pre-tokenized and encoded by the BPE model, then the
/// post-processor adds special tokens when asked.
public final class Tokenizer: Sendable {
    /// The settings from `tokenizer_config.json`.
    public let config: TokenizerConfig
    private let model: BPEModel
    private let normalizer: Normalizer?
    private let preTokenizer: PreTokenizer?
    private let postProcessor: PostProcessor?
    private let decoder: TokenDecoder?
    private let rawMatcher: AddedTokenMatcher
    private let normalizedMatcher: AddedTokenMatcher
    private let addedTokens: [Int: AddedToken]
    private let addedTokenIDs: [ExactString: Int]
    private let tokens: [String?]
    /// What the decoder sees for normalized added tokens whose normalized text differs (as `tokenizers` does).
    private let normalizedAddedTokens: [Int: String]
    /// Ids of pieces already encoded; pieces repeat a lot in real text.
    private let cache = Mutex<[[UInt8]: [Int]]>([:])
    private static let cacheLimit = 200_000
    /// The ids a tokenizer file may use: 2^24 is 64 times the largest vocabularies in use (262,144),
    /// and bounds the id-to-token table a file can make Fledge allocate.
    static let validIDs = 0..<(1 << 24)

    /// Loads `tokenizer.json`, plus `tokenizer_config.json` and `chat_template.jinja` when present, from `directory`;
    /// or, when `directory` is a `.gguf` file, the tokenizer its metadata describes (`init(gguf:)`).
    public convenience init(directory: String) throws(TokenizerError) {
        if directory.lowercased().hasSuffix(".gguf") {
            try self.init(gguf: URL(fileURLWithPath: directory))
            return
        }
        let url = URL(fileURLWithPath: directory)
        let tokenizerPath = url.appendingPathComponent("tokenizer.json").path
        let configPath = url.appendingPathComponent("tokenizer_config.json").path
        var config = FileManager.default.fileExists(atPath: configPath)
            ? try TokenizerConfig(json: try Self.read(configPath), path: configPath) : TokenizerConfig()
        let templatePath = url.appendingPathComponent("chat_template.jinja").path
        if FileManager.default.fileExists(atPath: templatePath) {
            config.chatTemplates["default"] = String(decoding: try Self.read(templatePath), as: UTF8.self)
        }
        try self.init(json: try Self.read(tokenizerPath), path: tokenizerPath, config: config)
    }

    /// Reads `tokenizer.json` text; `path` names the file in errors.
    public convenience init(json bytes: [UInt8], path: String, config: TokenizerConfig = TokenizerConfig()) throws(TokenizerError) {
        let root: JSONValue
        do { root = try JSONParser.parse(bytes) } catch { throw .invalidJSON(path: path, error: error) }
        try self.init(root: root, path: path, config: config)
    }

    /// A tokenizer.json already parsed (or built, as from a GGUF file's metadata); `path` names it in errors.
    init(root: JSONValue, path: String, config: TokenizerConfig) throws(TokenizerError) {
        let file = JSONField(root, file: path, path: "")
        _ = try file.object()
        self.config = config
        normalizer = file["normalizer"].isNull ? nil : try Normalizer(file["normalizer"])
        preTokenizer = file["pre_tokenizer"].isNull ? nil : try PreTokenizer(file["pre_tokenizer"])
        decoder = file["decoder"].isNull ? nil : try TokenDecoder(file["decoder"])
        let model = try BPEModel(file["model"], byteLevel: preTokenizer?.usesByteLevel ?? false)
        self.model = model
        let addedFields = file["added_tokens"].isNull ? [] : try file["added_tokens"].array()
        let added = try addedFields.map { (entry) throws(TokenizerError) in try AddedToken(entry) }
        addedTokens = Dictionary(added.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        addedTokenIDs = Dictionary(added.map { (ExactString($0.content), $0.id) }, uniquingKeysWith: { $1 })
        rawMatcher = AddedTokenMatcher(added.filter { !$0.normalized })
        var tokens = [String?](repeating: nil, count: max(model.vocabulary.values.max() ?? -1, added.map(\.id).max() ?? -1) + 1)
        for (token, id) in model.vocabulary { tokens[id] = token.value }
        try Self.checkAddedTokenIDs(added, fields: addedFields, vocabulary: model.vocabulary, vocabularyTokens: tokens)
        for token in added { tokens[token.id] = token.content }
        self.tokens = tokens
        var normalizedAddedTokens: [Int: String] = [:]
        if let normalizer {
            for token in added where token.normalized {
                let normalized = normalizer.normalize(token.content)
                if ExactString(normalized) != ExactString(token.content) { normalizedAddedTokens[token.id] = normalized }
            }
        }
        self.normalizedAddedTokens = normalizedAddedTokens
        normalizedMatcher = AddedTokenMatcher(added.filter(\.normalized)) { normalizedAddedTokens[$0.id] ?? $0.content }
        let lookUp: (String) -> Int? = { [addedTokenIDs] in addedTokenIDs[ExactString($0)] ?? model.vocabulary[ExactString($0)] }
        if config.addBOSToken != nil || config.addEOSToken != nil {
            postProcessor = Self.bosEOSTemplate(config, vocabulary: lookUp)
        } else {
            postProcessor = file["post_processor"].isNull ? nil
                : try PostProcessor(file["post_processor"], vocabulary: lookUp, isKnown: { tokens.indices.contains($0) && tokens[$0] != nil })
        }
    }

    /// The same vocabulary and pipeline with another `tokenizer_config.json`, as setting
    /// `tokenizer.eos_token` or `tokenizer.chat_template` in transformers gives: the special tokens the
    /// chat template sees, the templates, and (where `add_bos_token`/`add_eos_token` replace it) the
    /// post-processor follow the new config.
    public func replacingConfig(_ config: TokenizerConfig) -> Tokenizer {
        Tokenizer(copying: self, config: config)
    }

    private init(copying other: Tokenizer, config: TokenizerConfig) {
        self.config = config
        model = other.model
        normalizer = other.normalizer
        preTokenizer = other.preTokenizer
        decoder = other.decoder
        rawMatcher = other.rawMatcher
        normalizedMatcher = other.normalizedMatcher
        addedTokens = other.addedTokens
        addedTokenIDs = other.addedTokenIDs
        tokens = other.tokens
        normalizedAddedTokens = other.normalizedAddedTokens
        postProcessor = config.addBOSToken != nil || config.addEOSToken != nil
            ? Self.bosEOSTemplate(config, vocabulary: other.id(of:)) : other.postProcessor
    }

    /// Each id names one token: an added token may repeat a vocabulary entry or another added token
    /// only with the same content and the same id (as `tokenizers` reads them; it would give a token
    /// already known its known id, whatever the file says).
    private static func checkAddedTokenIDs(
        _ added: [AddedToken], fields: [JSONField], vocabulary: [ExactString: Int], vocabularyTokens: [String?]
    ) throws(TokenizerError) {
        var addedIDs: [ExactString: Int] = [:]
        var addedTokens: [Int: String] = [:]
        for (token, field) in zip(added, fields) {
            let content = ExactString(token.content)
            if let known = vocabulary[content] ?? addedIDs[content], known != token.id {
                throw field.problem("gives '\(token.content)' id \(token.id), but it already has id \(known); "
                    + "give it id \(known) or remove the entry")
            }
            if let other = addedTokens[token.id] ?? vocabularyTokens[token.id], ExactString(other) != content {
                throw field.problem("gives id \(token.id) to '\(token.content)', but that id belongs to '\(other)'; "
                    + "each token needs its own id")
            }
            addedIDs[content] = token.id
            addedTokens[token.id] = token.content
        }
    }

    /// transformers replaces the post-processor with `bos? $A eos?` when the config sets `add_bos_token` or `add_eos_token`.
    private static func bosEOSTemplate(_ config: TokenizerConfig, vocabulary: (String) -> Int?) -> PostProcessor {
        func id(_ token: String?, enabled: Bool?) -> [Int] {
            guard enabled == true, let token, let id = vocabulary(token) else { return [] }
            return [id]
        }
        return .template(prefix: id(config.bosToken, enabled: config.addBOSToken), suffix: id(config.eosToken, enabled: config.addEOSToken))
    }

    private static func read(_ path: String) throws(TokenizerError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadableFile(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied or not a file" : "no such file")
        }
        return [UInt8](data)
    }

    /// The number of ids (the largest id plus one).
    public var vocabularySize: Int { tokens.count }

    /// The id of a token string (added tokens first, then the model's vocabulary).
    public func id(of token: String) -> Int? {
        addedTokenIDs[ExactString(token)] ?? model.vocabulary[ExactString(token)]
    }

    /// The token string of an id.
    public func token(of id: Int) -> String? {
        id >= 0 && id < tokens.count ? tokens[id] : nil
    }

    /// The added tokens (tokenizer.json's `added_tokens`), in id order.
    public var addedTokenList: [AddedToken] {
        addedTokens.values.sorted { $0.id < $1.id }
    }

    /// Whether `id` is a special added token.
    public func isSpecial(_ id: Int) -> Bool {
        addedTokens[id]?.special ?? false
    }

    /// The ids of `text`, as `tokenizer.encode(text, add_special_tokens=...)` gives them.
    public func encode(_ text: String, addSpecialTokens: Bool = false) -> [Int] {
        var ids: [Int] = []
        let bytes = Array(text.utf8)
        cache.withLock { cache in
            for segment in rawMatcher.segments(of: bytes) {
                switch segment {
                case .token(let id): ids.append(id)
                case .text(let range): encodeUnmatched(Array(bytes[range]), startsText: range.lowerBound == 0, into: &ids, cache: &cache)
                }
            }
        }
        return addSpecialTokens ? postProcessor?.process(ids) ?? ids : ids
    }

    /// Normalizes text between raw-matched added tokens, cuts out normalized added tokens, and encodes the rest.
    private func encodeUnmatched(_ bytes: [UInt8], startsText: Bool, into ids: inout [Int], cache: inout [[UInt8]: [Int]]) {
        let normalized = normalizer.map { Array($0.normalize(String(decoding: bytes, as: UTF8.self)).utf8) } ?? bytes
        let segments = normalizedMatcher.isEmpty ? [.text(0..<normalized.count)] : normalizedMatcher.segments(of: normalized)
        for segment in segments {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let range):
                let piece = TextPiece(bytes: Array(normalized[range]), startsText: startsText && range.lowerBound == 0)
                for word in preTokenizer?.split([piece]) ?? [piece] where !word.bytes.isEmpty {
                    if let known = cache[word.bytes] {
                        ids += known
                        continue
                    }
                    var wordIDs: [Int] = []
                    model.encode(word.bytes, into: &wordIDs)
                    if cache.count < Self.cacheLimit { cache[word.bytes] = wordIDs }
                    ids += wordIDs
                }
            }
        }
    }

    /// The UTF-8 byte range of `text` that each of `ids` spells (the offsets transformers takes from
    /// `encodings.offsets`), when the tokens' bytes put together are exactly `text`'s bytes — true
    /// of byte-level BPE and of vocabularies of plain text pieces without a normalizer; `nil` when
    /// they are not (a normalizer, a Metaspace pre-tokenizer or stripped added tokens changed the text).
    public func byteRanges(of ids: [Int], spelling text: String) -> [Range<Int>]? {
        let byteLevel = preTokenizer?.usesByteLevel ?? false
        let expected = Array(text.utf8)
        var ranges: [Range<Int>] = [], offset = 0
        for id in ids {
            guard let token = token(of: id) else { return nil }
            let bytes = addedTokens[id] != nil || !byteLevel ? Array(token.utf8) : ByteLevelAlphabet.decode(token)
            guard let bytes, offset + bytes.count <= expected.count,
                  expected[offset..<offset + bytes.count].elementsEqual(bytes) else { return nil }
            ranges.append(offset..<offset + bytes.count)
            offset += bytes.count
        }
        return offset == expected.count ? ranges : nil
    }

    /// The text of `ids`, as `tokenizer.decode(ids, skip_special_tokens=...)` gives it. Unknown ids are skipped.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        let pieces = ids.compactMap { id -> String? in
            guard let token = normalizedAddedTokens[id] ?? token(of: id) else { return nil }
            return skipSpecialTokens && isSpecial(id) ? nil : token
        }
        return decoder?.decode(pieces) ?? pieces.joined(separator: " ")
    }
}
