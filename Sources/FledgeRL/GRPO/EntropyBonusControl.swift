/// The coefficient of GRPO's entropy bonus over a run, as TRL 1.16's `GRPOTrainer` keeps it: constant
/// (`entropy_coef`), or under adaptive entropy control (`use_adaptive_entropy`, Skywork-OR1, arXiv
/// 2505.22312) moved after each optimizer step by the mean entropy of the step's kept tokens — summed
/// over every micro-batch and process of the step, then up by `entropy_coef_delta` (at most
/// `entropy_coef_max`) when that mean is at or below `entropy_target`, else down (at least
/// `entropy_coef_min`). A step applies the coefficient set at the end of the step before it, and only
/// while that step's entropy was at or below the target (none before the first measurement).
///
/// Its state — the coefficient and the last step's entropy — continues across a resume through the
/// checkpoint's `rng_state.json` (``RandomStateCarrying``), as TRL keeps it in `entropy_ctrl_state.json`.
final class EntropyBonusControl {
    let isAdaptive: Bool
    let target: Double
    let delta: Double
    let range: ClosedRange<Double>
    /// The current coefficient (TRL's `self.entropy_coef`), logged as `entropy_coef`.
    private(set) var coefficient: Double
    /// The mean entropy of the last optimizer step's kept tokens; infinity before the first step ends.
    private(set) var lastStepEntropy = Double.infinity
    private var window = (sum: 0.0, tokens: 0.0)

    init(config: GRPOConfig) {
        isAdaptive = config.useAdaptiveEntropy
        coefficient = config.entropyCoef
        target = config.entropyTarget
        delta = config.entropyCoefDelta
        range = min(config.entropyCoefMin, config.entropyCoefMax)...max(config.entropyCoefMin, config.entropyCoefMax)
    }

    /// The coefficient this step's micro-batches apply.
    var appliedCoefficient: Double {
        guard isAdaptive else { return coefficient }
        return lastStepEntropy <= target ? coefficient : 0
    }

    /// Adds a micro-batch's kept-token entropies to the step's window (adaptive control only).
    func record(_ entropies: (sum: Double, tokens: Double)?) {
        guard isAdaptive, let entropies else { return }
        window.sum += entropies.sum
        window.tokens += entropies.tokens
    }

    /// At the end of an optimizer step: the window's mean entropy over every process, and the
    /// coefficient for the next step. Every process calls it at the same step.
    func finishStep(over communicator: any Communicator, step: String) throws {
        guard isAdaptive else { return }
        let totals = try communicator.allReduceSum([window.sum, window.tokens], purpose: "the entropy of \(step)")
        window = (0, 0)
        let entropy = totals[0] / max(totals[1], 1)
        coefficient = entropy <= target ? min(coefficient + delta, range.upperBound) : max(coefficient - delta, range.lowerBound)
        lastStepEntropy = entropy
    }

    private static let coefficientKey = "entropy_control.entropy_coef"
    private static let entropyKey = "entropy_control.last_step_entropy"

    /// The state a checkpoint keeps: the two numbers' bit patterns (none without adaptive control).
    var states: [String: UInt64] {
        guard isAdaptive else { return [:] }
        return [Self.coefficientKey: coefficient.bitPattern, Self.entropyKey: lastStepEntropy.bitPattern]
    }

    /// Restores `states`; throws when a checkpoint of an adaptive run lacks them.
    func restore(_ states: [String: UInt64]) throws {
        guard isAdaptive else { return }
        guard let coefficient = states[Self.coefficientKey], let entropy = states[Self.entropyKey] else {
            throw TrainingError.invalidSetting("the checkpoint has no adaptive entropy control state (\(Self.coefficientKey)); "
                + "it was saved by a run without use_adaptive_entropy, which cannot be resumed with it")
        }
        self.coefficient = Double(bitPattern: coefficient)
        lastStepEntropy = Double(bitPattern: entropy)
    }
}
