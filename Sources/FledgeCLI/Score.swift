import ArgumentParser
import Foundation
import FledgeHub
import FledgeLM

/// `fledge score`: log p(token t | tokens before t), t = 1 … n−1, of each input, one JSON line each.
struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per-token log-probabilities of token sequences under a model.",
        discussion: """
            Prints one line per input: {"logprobs": [...]}, the log-probability of each token given the ones \
            before it (n-1 values for n tokens). --jsonl reads lines {"ids": [...]} or {"text": "..."}.
            """)

    @Option(help: "A Hugging Face model directory (config.json, safetensors weights), a .gguf file, or a Hub id (org/name[@revision]) found in or downloaded to the Hugging Face cache.") var model: String
    @Option(help: "A PEFT adapter directory to load on the model (adapter_config.json, adapter_model.safetensors).") var adapter: String?
    @Option(help: quantizationHelp) var quantization: QuantizationFormat?
    @Option(help: ggufWeightsHelp) var ggufWeights: GGUFWeights = .keep
    @Option(help: "Token ids, comma-separated.") var ids: String?
    @Option(help: "Text, encoded with the model's tokenizer.") var text: String?
    @Option(help: "A JSON Lines file of {\"ids\": [...]} or {\"text\": ...} objects.") var jsonl: String?

    func validate() throws {
        let given = [ids, text, jsonl].compactMap { $0 }.count
        guard given == 1 else { throw ValidationError("give exactly one of --ids, --text and --jsonl") }
    }

    func run() throws {
        let directory = try ModelLocation.resolve(model)
        let lm = try loadModel(directory.path, adapter: adapter, quantization: quantization, ggufWeights: ggufWeights)
        let inputs = try readInputs(directory: directory)
        for (source, sequence) in inputs {
            try checkVocabulary(sequence, size: lm.config.vocabSize, source: source)
        }
        // Score in small batches of similar cost; each line is printed as soon as it is known.
        for (_, sequence) in inputs {
            let values = lm.tokenLogProbs([sequence])[0]
            print("{\"logprobs\":\(jsonFloats(values))}")
        }
    }

    private func readInputs(directory: URL) throws -> [(String, [Int])] {
        if let ids { return [("--ids", try parseIds(ids, option: "--ids"))] }
        if let text { return [("--text", try TextSupport.encode(text, directory: directory))] }
        let path = jsonl!
        var result: [(String, [Int])] = []
        for (index, line) in try TextSupport.lines(of: path).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            let source = "\(path), line \(index + 1)"
            guard case .object(let object) = try? JSONParser.parse(trimmed) else {
                throw ValidationError("\(source): not a JSON object")
            }
            if case .array(let list) = object["ids"], !list.isEmpty {
                result.append((source, try list.map { element in
                    guard case .int(let id) = element, id >= 0 else {
                        throw ValidationError("\(source): \"ids\" must hold non-negative token ids, got \(jsonLine(element))")
                    }
                    return id
                }))
            } else if case .string(let text) = object["text"] {
                result.append((source, try TextSupport.encode(text, directory: directory)))
            } else {
                throw ValidationError("\(source): expected {\"ids\": [...]} (non-empty) or {\"text\": \"...\"}")
            }
        }
        return result
    }
}
