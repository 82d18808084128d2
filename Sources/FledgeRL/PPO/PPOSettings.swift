/// The fields of `PPOConfig` that shape PPO's rewards, advantages and losses.
public struct PPOSettings: Equatable, Sendable {
    public var klCoef: Double
    public var klEstimator: KLEstimator
    public var whitenRewards: Bool
    public var gamma: Double
    public var lam: Double
    public var cliprange: Double
    public var cliprangeValue: Double
    public var vfCoef: Double

    public init(klCoef: Double = 0.05, klEstimator: KLEstimator = .k1, whitenRewards: Bool = false, gamma: Double = 1,
                lam: Double = 0.95, cliprange: Double = 0.2, cliprangeValue: Double = 0.2, vfCoef: Double = 0.1) {
        self.klCoef = klCoef
        self.klEstimator = klEstimator
        self.whitenRewards = whitenRewards
        self.gamma = gamma
        self.lam = lam
        self.cliprange = cliprange
        self.cliprangeValue = cliprangeValue
        self.vfCoef = vfCoef
    }

    /// The settings of a resolved config.
    public init(config: PPOConfig) {
        self.init(klCoef: config.klCoef, klEstimator: config.klEstimator, whitenRewards: config.whitenRewards,
                  gamma: config.gamma, lam: config.lam, cliprange: config.cliprange,
                  cliprangeValue: config.cliprangeValue, vfCoef: config.vfCoef)
    }
}
