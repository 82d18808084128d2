/// A `post_processor` from tokenizer.json, for a single sequence: adds special tokens around
/// the encoded text when `addSpecialTokens` is on.
indirect enum PostProcessor {
    /// The ids before and after the text.
    case template(prefix: [Int], suffix: [Int])
    /// ByteLevel's post-processor only trims offsets, which Fledge does not track.
    case byteLevel
    case sequence([PostProcessor])

    /// Reads the post-processor described at `field`; `vocabulary` resolves token names.
    init(_ field: JSONField, vocabulary: (String) -> Int?) throws(TokenizerError) {
        switch try field.type() {
        case "ByteLevel":
            self = .byteLevel
        case "TemplateProcessing":
            self = try Self.template(field, vocabulary: vocabulary)
        case "BertProcessing", "RobertaProcessing":
            func id(_ key: String) throws(TokenizerError) -> Int {
                let pair = try field[key].array()
                guard pair.count == 2 else { throw field[key].problem("must be a [token, id] pair") }
                return try pair[1].int()
            }
            self = .template(prefix: [try id("cls")], suffix: [try id("sep")])
        case "Sequence":
            self = .sequence(try field["processors"].array().map { (element) throws(TokenizerError) in
                try PostProcessor(element, vocabulary: vocabulary)
            })
        case let other:
            throw field["type"].unsupported("post-processor '\(other)'")
        }
    }

    private static func template(_ field: JSONField, vocabulary: (String) -> Int?) throws(TokenizerError) -> PostProcessor {
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
                ids = try special["ids"].array().map { (id) throws(TokenizerError) in try id.int() }
            } else if let id = vocabulary(name) {
                ids = [id]
            } else {
                throw specials.problem("has no entry for '\(name)'")
            }
            if seenSequence { suffix += ids } else { prefix += ids }
        }
        return .template(prefix: prefix, suffix: suffix)
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
