/// What GRPO's loss needs from the config (TRL's `GRPOTrainer._compute_loss`), with TRL's field
/// names in the doc comments.
public struct GRPOLossSettings: Equatable, Sendable {
    /// `loss_type`.
    public var lossType: GRPOLossType
    /// `importance_sampling_level`: one ratio per token, or one per sequence (GSPO).
    public var importanceSamplingLevel: ImportanceSamplingLevel
    /// `epsilon`: the ratio is clipped below at 1 − epsilonLow.
    public var epsilonLow: Double
    /// `epsilon_high` (or `epsilon` when unset): the ratio is clipped above at 1 + epsilonHigh; CISPO's
    /// absolute cap on its importance weight.
    public var epsilonHigh: Double
    /// `delta`: cap on the unclipped ratio (two-sided GRPO), or nil.
    public var delta: Double?
    /// `beta`: weight of the k3 KL estimate against the reference policy (0: no reference).
    public var beta: Double
    /// `use_bias_correction_kl`: multiply the KL estimate by the importance ratio.
    public var useBiasCorrectionKL: Bool
    /// `top_entropy_quantile`: the share of highest-entropy tokens the policy term keeps (1: all).
    public var topEntropyQuantile: Double
    /// `entropy_coef`: the weight of the entropy bonus subtracted from the loss (0: none), or its
    /// starting value under adaptive entropy control.
    public var entropyCoefficient: Double
    /// `use_adaptive_entropy`: the coefficient changes each step (``EntropyBonusControl``), so the bonus
    /// term is computed even while its coefficient is 0.
    public var adaptiveEntropy = false
    /// Whether the loss has an entropy bonus term: a coefficient other than 0, or adaptive control.
    public var hasEntropyBonus: Bool { entropyCoefficient != 0 || adaptiveEntropy }
    /// `off_policy_mask_threshold`: the mean per-token KL to the sampling policy above which a
    /// negative-advantage completion leaves the policy term; nil keeps every completion.
    public var offPolicyMaskThreshold: Double?
    /// `sapo_temperature_pos` and `sapo_temperature_neg`.
    public var sapoTemperaturePositive: Double
    public var sapoTemperatureNegative: Double
    /// `vespo_k_pos`, `vespo_lambda_pos`, `vespo_k_neg`, `vespo_lambda_neg`.
    public var vespo: VESPOParameters
    /// `max_completion_length`: `dr_grpo`'s constant normaliser.
    public var maxCompletionLength: Int
    /// Micro-steps accumulated into one optimizer step (1 for evaluation). The loss divides by it
    /// itself, as TRL does, so the trainer must not divide again.
    public var gradientAccumulationSteps: Int
    /// `steps_per_generation`: micro-batches one generation batch is split into (1 for evaluation).
    /// The token-sum losses normalise by the generation batch's active tokens rescaled by
    /// `gradientAccumulationSteps / stepsPerGeneration`.
    public var stepsPerGeneration: Int
    /// Processes training together (TRL's `num_processes`): the token-sum losses divide the round's
    /// tokens by it, since averaging the gradients over the processes divides again.
    public var processCount = 1

    /// The settings of a resolved config for training.
    public init(config: GRPOConfig) {
        let generation = config.generation
        lossType = config.lossType
        importanceSamplingLevel = config.importanceSamplingLevel
        epsilonLow = generation.epsilon
        epsilonHigh = generation.epsilonHigh ?? generation.epsilon
        delta = config.delta
        beta = generation.beta
        useBiasCorrectionKL = config.useBiasCorrectionKL
        topEntropyQuantile = config.topEntropyQuantile
        offPolicyMaskThreshold = config.offPolicyMaskThreshold
        entropyCoefficient = config.entropyCoef
        adaptiveEntropy = config.useAdaptiveEntropy
        sapoTemperaturePositive = config.sapoTemperaturePos
        sapoTemperatureNegative = config.sapoTemperatureNeg
        vespo = VESPOParameters(kPositive: config.vespoKPos, lambdaPositive: config.vespoLambdaPos,
                                kNegative: config.vespoKNeg, lambdaNegative: config.vespoLambdaNeg)
        maxCompletionLength = generation.maxCompletionLength
        gradientAccumulationSteps = config.training.gradientAccumulationSteps
        stepsPerGeneration = generation.stepsPerGeneration ?? config.training.gradientAccumulationSteps
    }

    /// The same settings for evaluation, where TRL neither accumulates nor splits the batch.
    public var forEvaluation: GRPOLossSettings {
        var settings = self
        settings.gradientAccumulationSteps = 1
        settings.stepsPerGeneration = 1
        return settings
    }
}

/// VESPO's Gamma weight parameters: φ(w) = e^λ · w^k · e^(−λw), with (k, λ) chosen by the sign of
/// the advantage.
public struct VESPOParameters: Equatable, Sendable {
    public var kPositive: Double
    public var lambdaPositive: Double
    public var kNegative: Double
    public var lambdaNegative: Double

    public init(kPositive: Double, lambdaPositive: Double, kNegative: Double, lambdaNegative: Double) {
        self.kPositive = kPositive
        self.lambdaPositive = lambdaPositive
        self.kNegative = kNegative
        self.lambdaNegative = lambdaNegative
    }
}
