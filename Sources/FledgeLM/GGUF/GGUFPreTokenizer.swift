import FledgeTensor

/// The pre-tokenizer of a byte-level BPE vocabulary, chosen by `tokenizer.ggml.pre` as llama.cpp
/// chooses its split regexes (llama-vocab.cpp), written as the tokenizer.json `pre_tokenizer`
/// that splits text the same way.
enum GGUFPreTokenizer {
    /// The regexes llama.cpp runs one after another for `pre`, nil for a name Fledge does not know.
    /// An absent `pre` (old files) is GPT-2's split, as in llama.cpp.
    static func splits(_ pre: String?) -> [String]? {
        switch pre {
        case nil, "default", "gpt-2", "gpt2":
            // llama.cpp's `default` adds punctuation and digit-group splits no tokenizer.json has;
            // transformers (the reference these files are checked against) splits it as GPT-2, and so does Fledge.
            return [SplitPattern.gpt2]
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b":
            // Every digit alone, then GPT-2's split.
            return [#"\p{N}"#, SplitPattern.gpt2]
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral", "dbrx", "smaug-bpe":
            return [SplitPattern.llama3]
        case "qwen2", "deepseek-r1-qwen", "megrez":
            return [SplitPattern.qwen2]
        default:
            return nil
        }
    }

    /// The names `splits` knows, for error messages.
    static let knownNames = ["default", "gpt-2", "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone",
                             "minerva-7b", "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral", "dbrx", "smaug-bpe",
                             "qwen2", "deepseek-r1-qwen", "megrez"]

    /// The tokenizer.json `pre_tokenizer`: each regex as an isolating `Split`, then `ByteLevel`
    /// mapping bytes to its alphabet (GPT-2's regex is ByteLevel's own, so a lone GPT-2 split is
    /// ByteLevel with `use_regex`).
    static func json(_ splits: [String]) -> JSONValue {
        func byteLevel(useRegex: Bool) -> JSONValue {
            .object(JSONObject([("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)), ("trim_offsets", .bool(true)),
                                ("use_regex", .bool(useRegex))]))
        }
        let last = splits.last == SplitPattern.gpt2 ? splits.dropLast() : splits[...]
        let steps: [JSONValue] = last.map { regex in
            .object(JSONObject([("type", .string("Split")), ("pattern", .object(JSONObject([("Regex", .string(regex))]))),
                                ("behavior", .string("Isolated")), ("invert", .bool(false))]))
        } + [byteLevel(useRegex: last.count < splits.count)]
        return steps.count == 1 ? steps[0] : .object(JSONObject([("type", .string("Sequence")), ("pretokenizers", .array(steps))]))
    }
}
