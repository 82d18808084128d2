/// What transformers reads from `tokenizer_config.json` (and `chat_template.jinja`): special
/// tokens, whether to add BOS/EOS, and the chat templates.
public struct TokenizerConfig: Sendable {
    /// `bos_token`, if set.
    public var bosToken: String?
    /// `eos_token`, if set.
    public var eosToken: String?
    /// `unk_token`, if set.
    public var unknownToken: String?
    /// `pad_token`, if set.
    public var padToken: String?
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
        bosToken = try Self.tokenName(field["bos_token"])
        eosToken = try Self.tokenName(field["eos_token"])
        unknownToken = try Self.tokenName(field["unk_token"])
        padToken = try Self.tokenName(field["pad_token"])
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
