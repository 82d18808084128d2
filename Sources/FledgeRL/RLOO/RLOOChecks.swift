extension ConfigCheck where Config == RLOOConfig {
    /// `reward_clip_range` is a pair `[min, max]` with `min ≤ max`.
    static var rewardClipRange: ConfigCheck {
        ConfigCheck { resolution in
            guard let bounds = resolution.config.rewardClipRange else { return }
            if bounds.count != 2 {
                resolution.fail(\.rewardClipRange, "give two values [min, max], not \(bounds.count)")
            } else if bounds[0] > bounds[1] {
                resolution.fail(\.rewardClipRange, "the minimum \(bounds[0]) is above the maximum \(bounds[1]); give [min, max]")
            }
        }
    }
}
