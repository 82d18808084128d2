import Foundation

/// The fields of `generation_config.json` that sampling uses (falling back to config.json's
/// `eos_token_id` and `pad_token_id` when the file is absent).
public struct GenerationConfig: Sendable {
    public var eosTokenIds: [Int]
    public var padTokenId: Int?
    public var doSample: Bool
    public var temperature: Float
    public var topK: Int
    public var topP: Float
    public var minP: Float
    public var repetitionPenalty: Float

    public init(eosTokenIds: [Int] = [], padTokenId: Int? = nil) {
        self.eosTokenIds = eosTokenIds
        self.padTokenId = padTokenId
        doSample = false
        temperature = 1
        topK = 50
        topP = 1
        minP = 0
        repetitionPenalty = 1
    }

    init(directory: URL, config: ModelConfig) throws {
        self.init(eosTokenIds: config.eosTokenIds, padTokenId: config.padTokenId)
        let path = directory.appendingPathComponent("generation_config.json").path
        guard FileManager.default.fileExists(atPath: path) else { return }
        let reader = try ConfigReader(file: path)
        if reader.has("eos_token_id") { eosTokenIds = try reader.ints("eos_token_id") }
        if reader.has("pad_token_id") { padTokenId = try reader.optionalInt("pad_token_id") }
        doSample = try reader.bool("do_sample", default: false)
        temperature = Float(try reader.double("temperature", default: 1))
        topK = try reader.int("top_k", default: 50)
        topP = Float(try reader.double("top_p", default: 1))
        minP = Float(try reader.double("min_p", default: 0))
        repetitionPenalty = Float(try reader.double("repetition_penalty", default: 1))
    }
}
