/// A `post_processor` from tokenizer.json, for a single sequence: adds special tokens around
/// the encoded text when `addSpecialTokens` is on.
indirect enum PostProcessor {
    /// The ids before and after the text.
    case template(prefix: [Int], suffix: [Int])
    /// ByteLevel's post-processor only trims offsets, which Fledge does not track.
    case byteLevel
    case sequence([PostProcessor])

    /// Reads the post-processor described at `field`; `vocabulary` resolves token names, and ids
    /// written in the file must be ids of tokens (`isKnown`).
    init(_ field: JSONField, vocabulary: (String) -> Int?, isKnown: (Int) -> Bool) throws(TokenizerError) {
        switch try field.type() {
        case "ByteLevel":
            self = .byteLevel
        case "TemplateProcessing":
            self = try Self.template(field, vocabulary: vocabulary, isKnown: isKnown)
        case "BertProcessing", "RobertaProcessing":
            func id(_ key: String) throws(TokenizerError) -> Int {
                let pair = try field[key].array()
                guard pair.count == 2 else { throw field[key].problem("must be a [token, id] pair") }
                return try Self.knownID(pair[1], isKnown: isKnown)
            }
            self = .template(prefix: [try id("cls")], suffix: [try id("sep")])
        case "Sequence":
            self = .sequence(try field["processors"].array().map { (element) throws(TokenizerError) in
                try PostProcessor(element, vocabulary: vocabulary, isKnown: isKnown)
            })
        case let other:
            throw field["type"].unsupported("post-processor '\(other)'")
        }
    }

    private static func template(
        _ field: JSONField, vocabulary: (String) -> Int?, isKnown: (Int) -> Bool
    ) throws(TokenizerError) -> PostProcessor {
        let specials = field["special_tokens"]
        var prefix: [Int] = []
        var suffix: [Int] = []
        var seenSequence = false
        for item in try field["single"].array() {
            if !item["Sequence"].isNull {
                seenSequence = true
                continue
            }
            let name = try item["SpecialToken"]["id"].string()
            let special = specials[name]
            let ids: [Int]
            if !special.isNull {
                ids = try special["ids"].array().map { (id) throws(TokenizerError) in try knownID(id, isKnown: isKnown) }
            } else if let id = vocabulary(name) {
                ids = [id]
            } else {
                throw specials.problem("has no entry for '\(name)'")
            }
            if seenSequence { suffix += ids } else { prefix += ids }
        }
        return .template(prefix: prefix, suffix: suffix)
    }

    /// The id at `field`, which must be the id of a token: the post-processor adds it to every encoding.
    private static func knownID(_ field: JSONField, isKnown: (Int) -> Bool) throws(TokenizerError) -> Int {
        let id = try field.int()
        guard isKnown(id) else { throw field.problem("is \(id), which is the id of no token in model.vocab or added_tokens") }
        return id
    }

    /// The ids with special tokens added.
    func process(_ ids: [Int]) -> [Int] {
        switch self {
        case .template(let prefix, let suffix): prefix + ids + suffix
        case .byteLevel: ids
        case .sequence(let steps): steps.reduce(ids) { $1.process($0) }
        }
    }
}
