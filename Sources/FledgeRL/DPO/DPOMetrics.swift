/// The metrics TRL's DPO logs per micro-batch, from the pairs' log-ratios and log-probabilities.
/// The rewards are β · ρ whatever the loss type and f-divergence.
enum DPOMetrics {
    static func metrics(beta: Double, chosenRatio: [Float], rejectedRatio: [Float], chosen: [Float], rejected: [Float],
                        meanLogits: [Float]?, counts: [Int]) -> [String: Double] {
        let chosenRewards = chosenRatio.map { beta * Double($0) }
        let rejectedRewards = rejectedRatio.map { beta * Double($0) }
        var metrics = [
            "rewards/chosen": mean(chosenRewards),
            "rewards/rejected": mean(rejectedRewards),
            "rewards/accuracies": mean(zip(chosenRewards, rejectedRewards).map { $0 > $1 ? 1 : 0 }),
            "rewards/margins": mean(zip(chosenRewards, rejectedRewards).map { $0 - $1 }),
            "logps/chosen": mean(chosen.map(Double.init)),
            "logps/rejected": mean(rejected.map(Double.init)),
        ]
        if let meanLogits {
            // Token-weighted over each side's completion tokens; 0 when a side has none.
            let chosenTokens = counts[..<(counts.count / 2)].reduce(0, +)
            let chosenLogits = meanLogits[..<chosenTokens].reduce(0) { $0 + Double($1) }
            let rejectedLogits = meanLogits[chosenTokens...].reduce(0) { $0 + Double($1) }
            let rejectedTokens = meanLogits.count - chosenTokens
            metrics["logits/chosen"] = chosenTokens > 0 ? chosenLogits / Double(chosenTokens) : 0
            metrics["logits/rejected"] = rejectedTokens > 0 ? rejectedLogits / Double(rejectedTokens) : 0
        }
        return metrics
    }

    private static func mean(_ values: [Double]) -> Double {
        values.reduce(0, +) / Double(values.count)
    }
}
