import Foundation

/// The learning-rate schedules of transformers' `get_scheduler`, under its names (FledgeRL's
/// `lr_scheduler_type` maps onto these by raw value).
public enum LearningRateScheduleKind: String, Sendable, CaseIterable {
    /// Linear warm-up from 0, then linear decay to 0 at the last training step.
    case linear
    /// Linear warm-up, then half a cosine wave down to 0 at the last training step.
    case cosine
    /// The base rate throughout (no warm-up, as transformers' `constant`).
    case constant
    /// Linear warm-up, then the base rate.
    case constantWithWarmup = "constant_with_warmup"
}

/// The learning rate for each optimizer step, as transformers' schedulers give it: PyTorch's
/// `LambdaLR` uses base rate × λ(k) at the optimizer step k (0-based), with transformers' λ:
///
///     warm-up (k < w):  k / max(1, w)
///     linear:           max(0, (n − k) / max(1, n − w))
///     cosine:           max(0, ½(1 + cos(π·(k − w) / max(1, n − w))))
///
/// for w warm-up steps and n training steps.
public struct LearningRateSchedule: Sendable, Equatable {
    /// The schedule's shape.
    public let kind: LearningRateScheduleKind
    /// The peak rate (the optimizer's configured learning rate).
    public let baseLearningRate: Double
    /// Steps of linear warm-up from 0 (ignored by `constant`).
    public let warmupSteps: Int
    /// The number of optimizer steps in training (where `linear` and `cosine` reach 0).
    public let totalSteps: Int

    /// A schedule; `warmupSteps` and `totalSteps` must not be negative.
    public init(kind: LearningRateScheduleKind, baseLearningRate: Double, warmupSteps: Int = 0, totalSteps: Int) {
        precondition(warmupSteps >= 0 && totalSteps >= 0,
                     "LearningRateSchedule: warmupSteps (\(warmupSteps)) and totalSteps (\(totalSteps)) must not be negative")
        self.kind = kind
        self.baseLearningRate = baseLearningRate
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The learning rate of optimizer step `step` (0 for the first step).
    public func learningRate(step: Int) -> Double { baseLearningRate * multiplier(step: step) }

    /// λ(step), the factor on the base rate.
    public func multiplier(step: Int) -> Double {
        if kind != .constant, step < warmupSteps { return Double(step) / Double(max(1, warmupSteps)) }
        let decaySteps = Double(max(1, totalSteps - warmupSteps))
        switch kind {
        case .constant, .constantWithWarmup:
            return 1
        case .linear:
            return max(0, Double(totalSteps - step) / decaySteps)
        case .cosine:
            let progress = Double(step - warmupSteps) / decaySteps
            return max(0, 0.5 * (1 + cos(Double.pi * 0.5 * 2 * progress)))
        }
    }
}
