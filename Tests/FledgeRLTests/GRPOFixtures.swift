import Foundation
import XCTest
@testable import FledgeRL

/// The fixtures `Scripts/reference/make_grpo_fixtures.py` computes with TRL's GRPOTrainer.
enum GRPOFixtures {
    static func url(_ name: String) -> URL { fixtureURL("grpo/" + name) }

    static func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(contentsOf: url(name)))
    }

    /// The micro-batch every loss case scores.
    struct LossInputs: Decodable {
        let prompts: [[Int]]
        let completions: [[Int]]
        let maskedRows: [Int]
        let advantages: [Float]
        let oldLogps: [[Float]]
        let refLogps: [[Float]]
        let numItemsInBatch: Int
        let gradientAccumulationSteps: Int
        let stepsPerGeneration: Int
        let temperature: Double
        let maxCompletionLength: Int
        let epsilon: Double
        let epsilonHigh: Double
        let trlLogps: [[Float]]
        let trlEntropies: [[Float]]

        enum CodingKeys: String, CodingKey {
            case prompts, completions, advantages, temperature, epsilon
            case maskedRows = "masked_rows", oldLogps = "old_logps", refLogps = "ref_logps"
            case numItemsInBatch = "num_items_in_batch", gradientAccumulationSteps = "gradient_accumulation_steps"
            case stepsPerGeneration = "steps_per_generation", maxCompletionLength = "max_completion_length"
            case epsilonHigh = "epsilon_high", trlLogps = "trl_logps", trlEntropies = "trl_entropies"
        }

        /// Tokens scored in each row (none for a masked-out row).
        var counts: [Int] { trlLogps.map(\.count) }

        /// The YAML of the config every case shares, plus `settings`.
        func yaml(_ settings: [String: JSONScalar]) -> String {
            var lines = [
                "per_device_train_batch_size: \(prompts.count)", "num_generations: 4",
                "gradient_accumulation_steps: \(gradientAccumulationSteps)",
                "steps_per_generation: \(stepsPerGeneration)", "max_completion_length: \(maxCompletionLength)",
                "temperature: \(temperature)", "epsilon: \(epsilon)", "epsilon_high: \(epsilonHigh)",
            ]
            lines = lines.filter { line in !settings.keys.contains { line.hasPrefix($0 + ":") } }
            lines += settings.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.yaml)" }
            return lines.joined(separator: "\n")
        }
    }

    /// One loss computation by TRL: its settings, loss and logged metrics.
    struct LossCase: Decodable {
        let name: String
        let settings: [String: JSONScalar]
        let offPolicy: Bool
        let loss: Double
        let metrics: [String: Double?]

        enum CodingKeys: String, CodingKey {
            case name, settings, loss, metrics
            case offPolicy = "off_policy"
        }
    }

    /// One advantage computation by TRL.
    struct AdvantageCase: Decodable {
        let name: String
        let numGenerations: Int
        let rewardWeights: [Double]?
        let scaleRewards: String
        let multiObjectiveAggregation: String
        let rewardNames: [String]
        let rewards: [String: [Double?]]
        let advantages: [Double]
        let metrics: [String: Double?]

        enum CodingKeys: String, CodingKey {
            case name, rewards, advantages, metrics
            case numGenerations = "num_generations", rewardWeights = "reward_weights", scaleRewards = "scale_rewards"
            case rewardNames = "reward_names", multiObjectiveAggregation = "multi_objective_aggregation"
        }
    }
}

extension JSONScalar {
    /// The value as YAML text.
    var yaml: String {
        switch value {
        case .string(let text): text
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): "\(number)"
        case .double(let number): "\(number)"
        default: "null"
        }
    }

    /// The value as a number, if it is one.
    var number: Double? {
        switch value {
        case .int(let number): Double(number)
        case .double(let number): number
        default: nil
        }
    }
}

/// Max |actual − expected| over the largest |expected| (how far a tensor is, on its own scale).
func scaledError(_ actual: [Float], _ expected: [Float]) -> Double {
    precondition(actual.count == expected.count, "\(actual.count) values against \(expected.count)")
    let scale = expected.map { Double(Swift.abs($0)) }.max() ?? 0
    let worst = zip(actual, expected).map { Double(Swift.abs($0 - $1)) }.max() ?? 0
    return worst / Swift.max(scale, 1e-30)
}

/// |actual − expected| / |expected| (absolute below 1e-30).
func relativeError(_ actual: Double, _ expected: Double) -> Double {
    Swift.abs(actual - expected) / Swift.max(Swift.abs(expected), 1e-30)
}
