/// The full score (``RewardFunction/fullScore``) of each built-in reward function: the reward of a completion that does all the
/// function asks, which `fledge eval` and evaluation during training count as correct
/// (``ModelEvaluation``):
///
/// - `answer`, `accuracy_reward`: 1 (the right final answer);
/// - `format`, `think_format_reward`: 1 (the completion matches);
/// - `length:TARGET`: 0 (exactly the target length); plain `length` (shorter is better) has none;
/// - `soft_overlong`: 0 (no punishment: the completion ends before the soft limit);
/// - `reward_command`: 1, the convention of its examples (1 right, fractions for partial credit);
/// - a reward model (`model:DIRECTORY`) and a library user's function that does not say: none.
///
/// A function without a full score takes no part in accuracy; it still counts in the mean reward.
extension RewardFunction {
    /// None, unless the function says otherwise.
    public var fullScore: Double? { nil }
}

extension AnswerReward {
    public var fullScore: Double? { 1 }
}

extension FormatReward {
    public var fullScore: Double? { 1 }
}

extension LengthReward {
    /// 0 for a target length; a plain penalty on length has no best value short of no tokens at all.
    public var fullScore: Double? {
        if case .target = goal { return 0 }
        return nil
    }
}

extension SoftOverlongPunishment {
    public var fullScore: Double? { 0 }
}

extension RewardCommand {
    public var fullScore: Double? { 1 }
}
