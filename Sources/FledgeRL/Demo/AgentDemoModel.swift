import Foundation
import FledgeLM
import FledgeTensor

/// The agent demo's base model: a tiny Llama (the arithmetic demo's shape) with a character tokenizer and a compact
/// Qwen-style chat template, taught by supervised fine-tuning to answer `123*456=` either in its head or by calling
/// the `calculator` tool in the template's `<tool_call>` format and answering with the tool's result
/// (`fledge sft` on the conversations written here, `examples/demo/agent-sft.yaml`). Only a share of the SFT
/// conversations call the tool, so the model calls it on some problems and guesses on the others — what GRPO with a
/// correctness reward then changes. `examples/demo/README.md` gives the commands that rebuild the shipped model.
public enum AgentDemoModel {
    /// The task: multiplying two 3-digit numbers, which a 0.6 M-parameter model cannot do in its head.
    public static let task = ArithmeticTask(minOperand: 100, maxOperand: 999, operation: .multiplication)

    /// The seed of the train/held-out split every agent demo step uses.
    public static let splitSeed: UInt64 = 2027

    /// Every printable ASCII character and the newline, so that any tool message (an error included) can be encoded.
    public static let alphabet: [Character] = (32...126).map { Character(Unicode.Scalar($0)!) } + ["\n"]

    /// The end of a turn (the tokenizer's EOS), as in Qwen's templates.
    public static let endOfTurn = "<|im_end|>"

    /// The template's control tokens and a few words it writes on every turn, each one token (real tokenizers hold
    /// such words whole too; spelled out in characters they would lengthen every episode several-fold).
    public static let addedTokens: [CharacterTokenizerFile.AddedToken] = [
        .init("<|im_start|>", special: true),
        .init("<tool_call>", special: false), .init("</tool_call>", special: false),
        .init("<tool_response>", special: false), .init("</tool_response>", special: false),
        .init("user", special: false), .init("assistant", special: false),
        .init(#"{"name": ""#, special: false), .init("calculator", special: false),
        .init(#"", "arguments": "#, special: false), .init(#"{"expression": ""#, special: false),
    ]

    /// A Qwen2.5-style chat template, compact: turns are `<|im_start|>ROLE\n…<|im_end|>\n`, tool calls
    /// `<tool_call>{"name": …, "arguments": …}</tool_call>` and tool results `<tool_response>…</tool_response>` in a
    /// user turn, assistant replies inside `{% generation %}` (for `assistant_only_loss`). Unlike Qwen's, it does not
    /// list the tools in a system turn: the model has one tool, and the listing would lengthen every prompt by
    /// hundreds of characters.
    public static let chatTemplate = #"""
        {%- for message in messages %}
        {%- if message.role == 'assistant' %}
        {{- '<|im_start|>assistant\n' }}
        {%- generation %}
        {{- message.content or '' }}
        {%- for call in message.tool_calls or [] %}
        {%- if call.function is defined %}{%- set call = call.function %}{%- endif %}
        {{- '<tool_call>{"name": "' + call.name + '", "arguments": ' + call.arguments | tojson + '}</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>' }}
        {%- endgeneration %}
        {{- '\n' }}
        {%- elif message.role == 'tool' %}
        {{- '<|im_start|>user\n<tool_response>' + message.content + '</tool_response><|im_end|>\n' }}
        {%- else %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' }}
        {%- endif %}
        {%- endfor %}
        {%- if add_generation_prompt %}
        {{- '<|im_start|>assistant\n' }}
        {%- endif %}
        """#

    /// config.json of the model: the arithmetic demo's (3 layers, hidden 128, 4 heads sharing 2 KV heads, tied
    /// embeddings) with this vocabulary and room for a whole episode.
    public static var configJSON: JSONObject {
        var config = DemoBaseModel.configJSON
        config["vocab_size"] = .int(alphabet.count + 2 + addedTokens.count)
        config["max_position_embeddings"] = 96
        return config
    }

    /// The train/held-out split: held-out pairs never appear in training, in either order.
    public static func split(train: Int) -> (train: [ArithmeticTask.Problem], heldOut: [ArithmeticTask.Problem]) {
        task.split(seed: splitSeed, train: train, heldOut: AgentDemo.heldOutCount)
    }

    /// Writes a model directory with random weights (as ``DemoBaseModel/writeInitialModel(to:seed:)``) and the
    /// tokenizer with the chat template into `directory`.
    public static func writeInitialModel(to directory: URL, seed: UInt64) throws {
        try DemoBaseModel.writeInitialModel(configJSON: configJSON, to: directory, seed: seed)
        try CharacterTokenizerFile.write(alphabet: alphabet, to: directory, eosToken: endOfTurn, addedTokens: addedTokens,
                                         chatTemplate: chatTemplate, modelMaxLength: 96)
    }

    /// The share of SFT conversations that call the calculator; the others answer in one turn.
    public static let toolShare = 0.3

    /// The conversation of `problem`: the user's `123*456=`, then either the answer or a calculator call, its
    /// result and the answer.
    public static func conversation(_ problem: ArithmeticTask.Problem, callsTool: Bool) -> [JSONValue] {
        let user = JSONValue.object(JSONObject([("role", "user"), ("content", .string(problem.prompt))]))
        let answer = JSONValue.object(JSONObject([("role", "assistant"), ("content", .string(problem.answer))]))
        guard callsTool else { return [user, answer] }
        let arguments = JSONObject([("expression", .string(String(problem.prompt.dropLast())))])
        let function = JSONObject([("name", "calculator"), ("arguments", .object(arguments))])
        let call = JSONObject([("type", "function"), ("function", .object(function))])
        return [user,
                .object(JSONObject([("role", "assistant"), ("content", ""), ("tool_calls", .array([.object(call)]))])),
                .object(JSONObject([("role", "tool"), ("name", "calculator"), ("content", .string(problem.answer))])),
                answer]
    }

    /// Writes the SFT training set (`messages` rows) of the split's first `examples` training problems to `file`: a
    /// ``toolShare`` of them (drawn with `seed`) call the calculator, the others answer directly with the right
    /// product — which the model cannot compute, so it learns to guess numbers of the right shape.
    public static func writeTrainingData(to file: URL, examples: Int, seed: UInt64 = 7) throws {
        var generator = SeededGenerator(seed: seed)
        let writer = JSONWriter()
        let lines = split(train: examples).train.map { problem in
            let callsTool = Double(generator.nextUnitFloat()) < toolShare
            return writer.string(.object(JSONObject([("messages", .array(conversation(problem, callsTool: callsTool)))])))
        }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: file)
    }
}
