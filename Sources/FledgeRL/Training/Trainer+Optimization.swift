import Foundation
import FledgeNN

// TEMPORARY: replaced by the optim branch's schedule and GradientClipping when it lands.
struct LearningRateSchedule {
    let base: Double
    let warmup: Int
    let total: Int
    let type: LRSchedulerType

    init(arguments: TrainingArguments, totalSteps: Int) {
        base = arguments.learningRate
        warmup = arguments.warmupStepCount(totalSteps: totalSteps)
        total = totalSteps
        type = arguments.lrSchedulerType
    }

    func learningRate(step: Int) -> Double {
        if step < warmup { return base * Double(step) / Double(max(1, warmup)) }
        switch type {
        case .constant: return base
        case .constantWithWarmup: return base
        case .linear: return base * max(0, Double(total - step) / Double(max(1, total - warmup)))
        case .cosine:
            let progress = Double(step - warmup) / Double(max(1, total - warmup))
            return base * max(0, 0.5 * (1 + cos(Double.pi * progress)))
        }
    }
}

extension Trainer {
    func clipGradients() -> Double {
        var sum = 0.0
        for parameter in optimizer.parameters {
            guard let grad = parameter.tensor.grad else { continue }
            grad.withUnsafeElements { values in for v in values { sum += Double(v) * Double(v) } }
        }
        let norm = sum.squareRoot()
        let maxNorm = arguments.maxGradNorm
        if maxNorm > 0, norm > maxNorm {
            let scale = Float(maxNorm / (norm + 1e-6))
            for parameter in optimizer.parameters {
                parameter.tensor.grad?.withUnsafeMutableElements { values in for i in values.indices { values[i] *= scale } }
            }
        }
        return norm
    }
}
