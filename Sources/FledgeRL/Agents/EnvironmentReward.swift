/// The environment's reward of each finished episode as a reward function named `environment` (TRL logs an
/// environment's `get_reward` under its class name, weight 1 beside `reward_funcs`): the episodes of a generation
/// round are scored by the environment as they finish, and this hands those rewards to the advantage computation.
final class EnvironmentReward: RewardFunction {
    let name = "environment"
    /// The rewards of the round's episodes on this process, in row order, set before the round is scored.
    var pending: [Double?] = []

    func score(_ samples: [RewardSample]) throws -> [Double?] {
        guard pending.count == samples.count else {
            throw AgentError("the environment scored \(pending.count) episodes for \(samples.count) completions")
        }
        return pending
    }
}
