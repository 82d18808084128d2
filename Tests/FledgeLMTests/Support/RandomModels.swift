@testable import FledgeLM
import FledgeNN
import FledgeTensor

/// Language models of a `config.json` dictionary with seeded random weights (norm weights 1,
/// the rest uniform in ±`spread`), for tests that need a model of a given shape, not trained values.
enum RandomModels {
    static func model(_ config: JSONObject, seed: UInt64, spread: Float) throws -> LanguageModel {
        var generator = SeededGenerator(seed: seed)
        return try model(config, spread: spread, using: &generator)
    }

    /// The same with the caller's generator, which goes on from where the weights left it.
    static func model(_ config: JSONObject, spread: Float, using generator: inout SeededGenerator) throws -> LanguageModel {
        var weights: [String: Tensor] = [:]
        for (name, shape) in try LanguageModel.expectedWeights(configJSON: config) {
            weights[name] = name.hasSuffix("norm.weight") ? Tensor.ones(shape) : Tensor.uniform(shape, in: -spread..<spread, using: &generator)
        }
        return try LanguageModel(configJSON: config, weights: weights)
    }
}
