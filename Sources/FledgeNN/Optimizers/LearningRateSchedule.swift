import Foundation

/// The shape of a learning-rate schedule: transformers' `get_scheduler` schedules, each with the
/// arguments its function takes (FledgeRL reads them from `lr_scheduler_type` and `lr_scheduler_kwargs`).
/// Schedules that follow a metric (`reduce_lr_on_plateau`, `greedy`) are not among them.
public enum LearningRateShape: Sendable, Equatable {
    /// `linear`: linear warm-up from 0, then linear decay to 0 at the last training step.
    case linear
    /// `cosine` (`num_cycles` waves, ½ by default) and `cosine_with_min_lr` (floor `minimumRate` × the
    /// base rate): linear warm-up, then a cosine from the base rate to the floor.
    case cosine(cycles: Double = 0.5, minimumRate: Double = 0)
    /// `cosine_with_restarts`: linear warm-up, then `cycles` cosine decays to 0, each restarting at the base rate.
    case cosineWithHardRestarts(cycles: Double = 1)
    /// `cosine_warmup_with_min_lr`: transformers' variant whose warm-up starts at `warmupStartRate` (else
    /// 1 / warm-up steps) and whose cosine is shifted one step earlier, down to `minimumRate` × the base rate.
    case cosineWarmupWithMinimum(cycles: Double = 0.5, minimumRate: Double, warmupStartRate: Double? = nil)
    /// `polynomial`: linear warm-up, then (base − end)·(1 − progress)^power + end, and `endLearningRate`
    /// after the last step.
    case polynomial(endLearningRate: Double = 1e-7, power: Double = 1)
    /// `constant`: the base rate throughout (no warm-up).
    case constant
    /// `constant_with_warmup`: linear warm-up, then the base rate.
    case constantWithWarmup
    /// `inverse_sqrt`: linear warm-up, then 1 / √((step + timescale − warm-up) / timescale); the timescale
    /// defaults to the warm-up steps (10,000 without warm-up).
    case inverseSquareRoot(timescale: Int? = nil)
    /// `warmup_stable_decay`: warm-up, a stable phase at the base rate, a decay, then the floor.
    case warmupStableDecay(WarmupStableDecay)
}

/// The phases of a warmup–stable–decay schedule (transformers' `get_wsd_schedule`).
public struct WarmupStableDecay: Sendable, Equatable {
    /// How a phase moves between the floor and the base rate.
    public enum Curve: String, Sendable, CaseIterable {
        case linear, cosine
        case oneMinusSquareRoot = "1-sqrt"
    }

    /// Steps of the decay phase (`num_decay_steps`, required).
    public var decaySteps: Int
    /// Steps of the stable phase (`num_stable_steps`); nil means what the training steps leave after
    /// warm-up and decay.
    public var stableSteps: Int?
    /// The warm-up's curve (`warmup_type`).
    public var warmup: Curve
    /// The decay's curve (`decay_type`).
    public var decay: Curve
    /// The floor as a fraction of the base rate (`min_lr_ratio`), where warm-up starts and decay ends.
    public var minimumRatio: Double
    /// Cosine waves of a cosine decay (`num_cycles`).
    public var cycles: Double

    /// A schedule's phases, with transformers' defaults.
    public init(decaySteps: Int, stableSteps: Int? = nil, warmup: Curve = .linear, decay: Curve = .cosine,
                minimumRatio: Double = 0, cycles: Double = 0.5) {
        self.decaySteps = decaySteps
        self.stableSteps = stableSteps
        self.warmup = warmup
        self.decay = decay
        self.minimumRatio = minimumRatio
        self.cycles = cycles
    }
}

/// The learning rate for each optimizer step, as transformers' schedulers give it: PyTorch's
/// `LambdaLR` uses base rate × λ(k) at the optimizer step k (0-based), with λ computed in the same
/// order of operations as transformers' lambdas, so the rates are equal to the last bit. For w warm-up
/// steps and n training steps, the warm-up of most shapes is k / max(1, w) and, after it,
///
///     linear:  max(0, (n − k) / max(1, n − w))
///     cosine:  max(0, ½(1 + cos(π·c·2·p))·(1 − m) + m),  p = (k − w) / max(1, n − w)
public struct LearningRateSchedule: Sendable, Equatable {
    /// The schedule's shape and arguments.
    public let shape: LearningRateShape
    /// The peak rate (the optimizer's configured learning rate).
    public let baseLearningRate: Double
    /// Steps of warm-up (ignored by `constant`).
    public let warmupSteps: Int
    /// The number of optimizer steps in training (where the decaying shapes end).
    public let totalSteps: Int

    /// A schedule; `warmupSteps` and `totalSteps` must not be negative.
    public init(shape: LearningRateShape, baseLearningRate: Double, warmupSteps: Int = 0, totalSteps: Int) {
        precondition(warmupSteps >= 0 && totalSteps >= 0,
                     "LearningRateSchedule: warmupSteps (\(warmupSteps)) and totalSteps (\(totalSteps)) must not be negative")
        self.shape = shape
        self.baseLearningRate = baseLearningRate
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The learning rate of optimizer step `step` (0 for the first step).
    public func learningRate(step: Int) -> Double { baseLearningRate * multiplier(step: step) }

    /// λ(step), the factor on the base rate.
    public func multiplier(step: Int) -> Double {
        switch shape {
        case .constant:
            return 1
        case .cosineWarmupWithMinimum(let cycles, let minimumRate, let warmupStartRate):
            return cosineWarmupWithMinimum(step: step, cycles: cycles, minimumRate: minimumRate, warmupStartRate: warmupStartRate)
        case .warmupStableDecay(let phases):
            return warmupStableDecay(step: step, phases)
        default:
            break
        }
        if step < warmupSteps { return Double(step) / Double(max(1, warmupSteps)) }
        let decaySteps = Double(max(1, totalSteps - warmupSteps))
        let progress = Double(step - warmupSteps) / decaySteps
        switch shape {
        case .constantWithWarmup:
            return 1
        case .linear:
            return max(0, Double(totalSteps - step) / decaySteps)
        case .cosine(let cycles, let minimumRate):
            let factor = 0.5 * (1 + cos(Double.pi * cycles * 2 * progress))
            return max(0, factor * (1 - minimumRate) + minimumRate)
        case .cosineWithHardRestarts(let cycles):
            if progress >= 1 { return 0 }
            return max(0, 0.5 * (1 + cos(Double.pi * (cycles * progress).truncatingRemainder(dividingBy: 1))))
        case .polynomial(let endLearningRate, let power):
            if step > totalSteps { return endLearningRate / baseLearningRate }
            let range = baseLearningRate - endLearningRate
            let remaining = 1 - Double(step - warmupSteps) / decaySteps
            return (range * pow(remaining, power) + endLearningRate) / baseLearningRate
        case .inverseSquareRoot(let timescale):
            let scale = timescale ?? (warmupSteps > 0 ? warmupSteps : 10_000)
            return 1 / (Double(step + scale - warmupSteps) / Double(scale)).squareRoot()
        case .constant, .cosineWarmupWithMinimum, .warmupStableDecay:
            preconditionFailure("handled above")
        }
    }

    private func cosineWarmupWithMinimum(step: Int, cycles: Double, minimumRate: Double, warmupStartRate: Double?) -> Double {
        let current = Double(step)
        let warmup = Double(warmupSteps)
        if current < warmup {
            guard let start = warmupStartRate else { return (current + 1) / max(1, warmup) }
            return start + (1 - start) * current / Double(max(1, warmupSteps - 1))
        }
        let progress = (current - warmup + 1) / max(1, Double(totalSteps) - warmup)
        let factor = 0.5 * (1 + cos(Double.pi * cycles * 2 * progress))
        return max(0, factor * (1 - minimumRate) + minimumRate)
    }

    private func warmupStableDecay(step: Int, _ phases: WarmupStableDecay) -> Double {
        let floor = phases.minimumRatio
        if step < warmupSteps {
            let progress = Double(step) / Double(max(1, warmupSteps))
            let factor = switch phases.warmup {
            case .linear: progress
            case .cosine: 0.5 * (1 - cos(Double.pi * progress))
            case .oneMinusSquareRoot: 1 - (1 - progress).squareRoot()
            }
            return max(0, factor * (1 - floor) + floor)
        }
        let stableSteps = phases.stableSteps ?? (totalSteps - warmupSteps - phases.decaySteps)
        if step < warmupSteps + stableSteps { return 1 }
        if step < warmupSteps + stableSteps + phases.decaySteps {
            let progress = Double(step - warmupSteps - stableSteps) / Double(max(1, phases.decaySteps))
            let factor = switch phases.decay {
            case .linear: 1 - progress
            case .cosine: 0.5 * (1 + cos(Double.pi * phases.cycles * 2 * progress))
            case .oneMinusSquareRoot: 1 - progress.squareRoot()
            }
            return max(0, factor * (1 - floor) + floor)
        }
        return floor
    }
}
