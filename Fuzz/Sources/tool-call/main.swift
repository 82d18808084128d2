import FledgeLM
import FuzzSupport

/// What replies are parsed with: a character-level tokenizer over printable ASCII, newline and tab, whose added
/// tokens are the control tokens of the Qwen and Llama 3 formats (`<tool_call>` and `</tool_call>` not special, as
/// in Qwen's tokenizer), with a template that names them all.
enum Setup {
    static let controlTokens = ["<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>", "<|start_header_id|>",
                                "<|end_header_id|>", "<|eot_id|>", "<think>", "</think>"]

    static let tokenizer: Tokenizer = {
        let characters = ["\n", "\t"] + (32..<127).map { String(Unicode.Scalar(UInt8($0))) }
        let vocabulary = JSONObject(characters.enumerated().map { ($0.element, .int($0.offset)) })
        let added: [JSONValue] = controlTokens.enumerated().map { index, content in
            .object(JSONObject([("id", .int(characters.count + index)), ("content", .string(content)),
                                ("single_word", .bool(false)), ("lstrip", .bool(false)), ("rstrip", .bool(false)),
                                ("normalized", .bool(false)), ("special", .bool(!content.contains("tool_call")))]))
        }
        let file = JSONValue.object(JSONObject([
            ("added_tokens", .array(added)), ("decoder", .object(JSONObject([("type", .string("Fuse"))]))),
            ("model", .object(JSONObject([("type", .string("BPE")), ("vocab", .object(vocabulary)), ("merges", .array([]))]))),
        ]))
        let config = JSONValue.object(JSONObject([("eos_token", .string("<|im_end|>"))]))
        return try! Tokenizer(json: Array(JSONWriter().string(file).utf8), path: "tokenizer.json",
                              config: TokenizerConfig(json: Array(JSONWriter().string(config).utf8), path: "tokenizer_config.json"))
    }()

    static let tools: [JSONValue] = {
        let parameters = #"{"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": ["number", "null"]}, "c": {"anyOf": [{"type": "boolean"}, {"type": "array"}, {"type": "object"}]}}}"#
        return [.object(JSONObject([("type", .string("function")), ("function", .object(JSONObject([
            ("name", .string("add")), ("parameters", try! JSONParser.parse(parameters)),
        ])))]))]
    }()

    // The fuzzer calls the target from one thread.
    nonisolated(unsafe) static let parsers = ResponseFormat.all.map {
        ResponseParser(format: $0, tokenizer: tokenizer, chatTemplate: controlTokens.joined(separator: " "))
    }

    static let prefixes: [[Int]] = [
        tokenizer.encode("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"),
        tokenizer.encode("<|start_header_id|>assistant<|end_header_id|>\n\n"),
        [],
    ]
}

/// A generated reply — the input's text, encoded (so control tokens become their ids), and the input's bytes taken
/// as token ids, in and out of range — parsed in every format after each prompt, with tools that type arguments.
func fuzzToolCall(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    let encoded = Setup.tokenizer.encode(String(decoding: bytes, as: UTF8.self))
    let raw = bytes.map { Int($0) - 8 }
    for parser in Setup.parsers {
        for prefix in Setup.prefixes {
            for ids in [encoded, raw] {
                let message = parser.parse(ids, prefix: prefix, tools: Setup.tools)
                precondition(message["role"] == .string("assistant") && message["content"]?.stringValue != nil,
                             "a parsed reply must be an assistant message with text content")
            }
        }
    }
    return 0
}

runFuzzer(fuzzToolCall)
