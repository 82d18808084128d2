/// What transformers reads from `tokenizer_config.json` (and `chat_template.jinja`): special
/// tokens, whether to add BOS/EOS, and the chat templates.
public struct TokenizerConfig: Sendable {
    /// The named special tokens that are set (`bos_token`, `eos_token`, `unk_token`, `sep_token`,
    /// `pad_token`, `cls_token`, `mask_token`), as transformers' `special_tokens_map` gives them to chat templates.
    public var specialTokens: [String: String] = [:]
    /// `bos_token`, if set.
    public var bosToken: String? { specialTokens["bos_token"] }
    /// `eos_token`, if set.
    public var eosToken: String? { specialTokens["eos_token"] }
    /// The padding token's text, if the config names one.
    public var padToken: String? { specialTokens["pad_token"] }
    /// `add_bos_token`, only when the file sets it (then it replaces the post-processor, as transformers does).
    public var addBOSToken: Bool?
    /// `add_eos_token`, only when the file sets it.
    public var addEOSToken: Bool?
    /// Chat templates by name; a single template is named `default`.
    public var chatTemplates: [String: String] = [:]

    /// An empty configuration (no special tokens, no templates).
    public init() {}

    /// Reads `tokenizer_config.json` text; `path` names the file in errors.
    public init(json bytes: [UInt8], path: String) throws(TokenizerError) {
        let root: JSONValue
        do { root = try JSONParser.parse(bytes) } catch { throw .invalidJSON(path: path, error: error) }
        let field = JSONField(root, file: path, path: "")
        _ = try field.object()
        for name in ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"] {
            specialTokens[name] = try Self.tokenName(field[name])
        }
        addBOSToken = field["add_bos_token"].isNull ? nil : try field["add_bos_token"].bool(default: false)
        addEOSToken = field["add_eos_token"].isNull ? nil : try field["add_eos_token"].bool(default: false)
        let templates = field["chat_template"]
        switch templates.value {
        case .null: break
        case .string(let template): chatTemplates["default"] = template
        case .array:
            for entry in try templates.array() {
                chatTemplates[try entry["name"].string()] = try entry["template"].string()
            }
        default:
            throw templates.problem("must be a string or a list of {\"name\", \"template\"}, found \(templates.value.kind)")
        }
    }

    /// A special token given as a string or as an `AddedToken` object with `content`.
    private static func tokenName(_ field: JSONField) throws(TokenizerError) -> String? {
        if case .object = field.value { return try field["content"].string() }
        return try field.optionalString()
    }
}
