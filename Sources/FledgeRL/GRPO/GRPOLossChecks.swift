extension ConfigCheck where Config == GRPOConfig {
    /// Unsloth's default for Dr. GRPO: no division by the reward spread unless the user chose a scaling.
    static var lossTypeDefaultsForDrGRPO: ConfigCheck {
        ConfigCheck { resolution in
            guard resolution.preset == .unsloth, resolution.config.lossType == .drGRPO,
                  !resolution.isExplicit(\.scaleRewards)
            else { return }
            resolution.change(
                \.scaleRewards, to: .none,
                "Dr. GRPO removes the division by the reward standard deviation (set scale_rewards to keep it)")
        }
    }

    /// `normalize_then_sum` normalises over the batch whatever `scale_rewards` says, as TRL does.
    static var scaleRewardsWithNormalizeThenSum: ConfigCheck {
        ConfigCheck { resolution in
            guard resolution.config.multiObjectiveAggregation == .normalizeThenSum, resolution.isExplicit(\.scaleRewards)
            else { return }
            resolution.note(\.scaleRewards, "does not apply with multi_objective_aggregation: normalize_then_sum, which "
                + "normalises each reward function within its groups and then the sum over the batch")
        }
    }

    /// Check 5: DAPO's settings (clip-higher, overlong filtering, no KL) when `loss_type: dapo` is
    /// chosen in the file or by flag (not when it is only TRL's default under `defaults: trl`).
    static var dapo: ConfigCheck {
        ConfigCheck { resolution in
            guard resolution.config.lossType == .dapo, resolution.isExplicit(\.lossType) else { return }
            // As Unsloth does, these are set even over the user's values; the change says so.
            if !resolution.config.generation.maskTruncatedCompletions {
                resolution.change(
                    \.generation.maskTruncatedCompletions, to: true,
                    "DAPO leaves truncated completions out of the loss (overlong filtering)")
            }
            if resolution.config.generation.epsilonHigh != 0.28 {
                resolution.change(
                    \.generation.epsilonHigh, to: 0.28, "DAPO raises the upper clip range to 0.28 (clip-higher)")
            }
            if resolution.config.generation.beta != 0 {
                resolution.warn(\.generation.beta, "the DAPO paper removes the KL term; set beta: 0 to follow it")
            }
        }
    }

    /// Check 6: sequence-level importance sampling with a loss that sums tokens weights sequences by length.
    static var sequenceLevelWithTokenSum: ConfigCheck {
        ConfigCheck { resolution in
            let lossType = resolution.config.lossType
            guard resolution.config.importanceSamplingLevel == .sequence, lossType.sumsTokens else { return }
            resolution.warn(
                \.importanceSamplingLevel,
                "the '\(lossType.rawValue)' loss sums per-token contributions, which weights each sequence by "
                    + "its completion length instead of optimizing the per-sequence objective; set "
                    + "loss_type: grpo to reproduce GSPO")
        }
    }

    /// LUSPO is meant for sequence-level ratios and VESPO forms its own sequence weight (TRL warns likewise).
    static var importanceLevelForLUSPOAndVESPO: ConfigCheck {
        ConfigCheck { resolution in
            let level = resolution.config.importanceSamplingLevel
            switch resolution.config.lossType {
            case .luspo where level != .sequence:
                resolution.warn(
                    \.importanceSamplingLevel,
                    "the 'luspo' loss follows its paper with importance_sampling_level: sequence")
            case .vespo where level != .token:
                resolution.warn(
                    \.importanceSamplingLevel,
                    "VESPO computes sequence-level weights itself; keep importance_sampling_level: token")
            default: break
            }
        }
    }

    /// CISPO reads `epsilon_high` as an absolute cap on the importance weight, and `delta` should sit
    /// above the upper clip bound.
    static var cispoCap: ConfigCheck {
        ConfigCheck { resolution in
            let config = resolution.config
            if config.lossType == .cispo, !resolution.isExplicit(\.generation.epsilonHigh) {
                resolution.warn(
                    \.generation.epsilonHigh,
                    "CISPO caps the importance weight at epsilon_high itself (not 1 + epsilon_high); its paper "
                        + "uses 5.0, while the default (epsilon) scales every update down")
            }
            if let delta = config.delta, delta <= 1 + (config.generation.epsilonHigh ?? config.generation.epsilon) {
                resolution.warn(\.delta, "delta caps the ratio below the upper clip bound 1 + epsilon_high; "
                    + "two-sided GRPO uses a delta above it (INTELLECT-2: 4)")
            }
        }
    }
}
