/// The fields of `DPOConfig` that shape DPO's loss.
public struct DPOLossSettings: Sendable {
    public var beta: Double
    /// The losses summed, each with its weight (`loss_type`, `loss_weights`).
    public var losses: [(type: DPOLossType, weight: Double)]
    public var labelSmoothing: Double
    public var fDivergenceType: FDivergenceType
    public var fAlphaDivergenceCoef: Double
    public var ldAlpha: Double?
    public var useWeighting: Bool
    public var discopopTau: Double

    public init(beta: Double = 0.1, losses: [(type: DPOLossType, weight: Double)] = [(.sigmoid, 1)], labelSmoothing: Double = 0,
                fDivergenceType: FDivergenceType = .reverseKL, fAlphaDivergenceCoef: Double = 0.5, ldAlpha: Double? = nil,
                useWeighting: Bool = false, discopopTau: Double = 0.05) {
        self.beta = beta
        self.losses = losses
        self.labelSmoothing = labelSmoothing
        self.fDivergenceType = fDivergenceType
        self.fAlphaDivergenceCoef = fAlphaDivergenceCoef
        self.ldAlpha = ldAlpha
        self.useWeighting = useWeighting
        self.discopopTau = discopopTau
    }

    /// The settings of a resolved config (its checks have made `loss_weights` match `loss_type`).
    public init(config: DPOConfig) {
        let weights = config.lossWeights ?? Array(repeating: 1, count: config.lossType.count)
        precondition(weights.count == config.lossType.count,
                     "loss_weights has \(weights.count) values for \(config.lossType.count) losses in loss_type")
        self.init(beta: config.beta, losses: Array(zip(config.lossType, weights)).map { (type: $0, weight: $1) },
                  labelSmoothing: config.labelSmoothing, fDivergenceType: config.fDivergenceType,
                  fAlphaDivergenceCoef: config.fAlphaDivergenceCoef, ldAlpha: config.ldAlpha,
                  useWeighting: config.useWeighting, discopopTau: config.discopopTau)
    }
}
