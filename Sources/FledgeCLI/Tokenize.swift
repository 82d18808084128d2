import ArgumentParser
import FledgeHub
import FledgeLM
import Foundation

/// `fledge tokenize`: encode, decode and render chats with a model directory's tokenizer.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode text, decode ids, or render a chat with a model's tokenizer (as Hugging Face tokenizers/transformers do).",
        discussion: """
        --text prints a JSON array of ids; --jsonl FILE reads lines {"text": ...} and prints {"ids": [...]} per line; \
        --decode takes ids (a JSON array, or numbers separated by commas or spaces) and prints the text; \
        --chat FILE renders a conversation (a JSON list of messages, or {"messages": [...], "tools": [...]}) through the \
        chat template and prints {"text": ..., "ids": [...]}.
        """)

    @Option(name: .long, help: "Directory with tokenizer.json (and tokenizer_config.json for special tokens and chat templates), a .gguf file, or a Hub id (org/name[@revision]); from a Hub id only the JSON and template files are downloaded.")
    var model: String

    @Option(name: .long, help: "Text to encode.")
    var text: String?

    @Option(name: .long, help: "JSON Lines file of {\"text\": ...} objects to encode.")
    var jsonl: String?

    @Option(name: .long, help: "Ids to decode.")
    var decode: String?

    @Option(name: .long, help: "JSON file with a conversation to render through the chat template.")
    var chat: String?

    @Flag(name: .long, help: "Add the special tokens of the post-processor (e.g. BOS) when encoding.")
    var addSpecialTokens = false

    @Flag(name: .long, help: "Drop special tokens when decoding.")
    var skipSpecialTokens = false

    @Option(name: .long, help: TextSupport.chatTemplateKwargsHelp)
    var chatTemplateKwargs: String?

    @Flag(name: .long, help: "End the rendered chat with the header of an assistant turn.")
    var addGenerationPrompt = false

    func validate() throws {
        let modes = [text != nil, jsonl != nil, decode != nil, chat != nil].filter { $0 }.count
        guard modes == 1 else { throw ValidationError("give exactly one of --text, --jsonl, --decode, --chat") }
        guard chatTemplateKwargs == nil || chat != nil else {
            throw ValidationError("--chat-template-kwargs applies with --chat (the variables of the chat template)")
        }
    }

    func run() throws {
        let tokenizer = try Tokenizer(directory: ModelLocation.resolve(model, weights: false).path)
        if let text {
            print(Self.json(ids: tokenizer.encode(text, addSpecialTokens: addSpecialTokens)))
        } else if let jsonl {
            try encodeLines(of: jsonl, with: tokenizer)
        } else if let decode {
            print(tokenizer.decode(try Self.parseIDs(decode), skipSpecialTokens: skipSpecialTokens))
        } else if let chat {
            let (messages, tools) = try Self.readConversation(chat)
            let rendered = try tokenizer.applyChatTemplate(messages: messages, tools: tools, addGenerationPrompt: addGenerationPrompt,
                                                           variables: try TextSupport.chatTemplateVariables(chatTemplateKwargs))
            print(JSONWriter().string(.object(JSONObject([("text", .string(rendered.text)), ("ids", .array(rendered.ids.map { .int($0) }))]))))
        }
    }

    private func encodeLines(of path: String, with tokenizer: Tokenizer) throws {
        for (number, line) in try TextSupport.lines(of: path).enumerated() where !line.allSatisfy(\.isWhitespace) {
            guard case .string(let text)? = try Self.parse(line, path: "\(path), line \(number + 1)")["text"] else {
                throw ValidationError("\(path), line \(number + 1): expected an object with a string field \"text\"")
            }
            print("{\"ids\": \(Self.json(ids: tokenizer.encode(text, addSpecialTokens: addSpecialTokens)))}")
        }
    }

    static func json(ids: [Int]) -> String {
        JSONWriter().string(.array(ids.map { .int($0) }))
    }

    static func parseIDs(_ text: String) throws -> [Int] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let inner = trimmed.hasPrefix("[") && trimmed.hasSuffix("]") ? String(trimmed.dropFirst().dropLast()) : trimmed
        return try inner.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map { part in
            guard let id = Int(part) else { throw ValidationError("--decode: '\(part)' is not an integer id") }
            return id
        }
    }

    static func parse(_ text: String, path: String) throws -> JSONValue {
        do { return try JSONParser.parse(text) } catch { throw ValidationError("\(path) is not valid JSON: \(error)") }
    }

    /// A conversation file: a list of messages, or an object with `messages` and optional `tools`.
    static func readConversation(_ path: String) throws -> (messages: [JSONValue], tools: [JSONValue]?) {
        let value = try parse(try TextSupport.text(of: path), path: path)
        switch value {
        case .array(let messages):
            return (messages, nil)
        case .object(let object):
            guard case .array(let messages)? = object["messages"] else { throw ValidationError("\(path): field 'messages' must be a list of messages") }
            switch object["tools"] {
            case nil, .null?: return (messages, nil)
            case .array(let tools)?: return (messages, tools)
            default: throw ValidationError("\(path): field 'tools' must be a list of tool definitions")
            }
        default:
            throw ValidationError("\(path): expected a list of messages or {\"messages\": [...], \"tools\": [...]}")
        }
    }
}
