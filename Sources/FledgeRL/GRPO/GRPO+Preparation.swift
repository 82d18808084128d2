import FledgeLM

extension GRPO: ConfiguredAlgorithm {
    /// GRPO as `config` describes it (see ``ConfiguredAlgorithm/prepare(_:communicator:progress:)``),
    /// with the tools and environment of `tools` / `environment_command`.
    public static func prepare(_ config: GRPOConfig, communicator: any Communicator,
                               progress: (String) -> Void) throws -> PreparedTraining<GRPO> {
        try prepare(config, rewards: nil, dataset: nil, communicator: communicator, progress: progress)
    }

    /// GRPO as `config` describes it, with `rewards` (say, written in Swift) in place of
    /// `reward_funcs` / `reward_command` and `dataset` in place of the training split when given.
    public static func prepare(_ config: GRPOConfig, rewards: [any RewardFunction]? = nil, dataset: PromptDataset? = nil,
                               communicator: any Communicator = SingleProcess(),
                               progress: (String) -> Void = { _ in }) throws -> PreparedTraining<GRPO> {
        let inputs = try GroupSamplingInputs(config, rewards: rewards, dataset: dataset, progress: progress)
        let toolbox = try config.agent.toolbox()
        let grpo = try GRPO(model: inputs.model, tokenizer: inputs.tokenizer, dataset: inputs.dataset, rewards: inputs.rewards,
                            config: config, reference: inputs.reference, communicator: communicator,
                            evaluationDataset: inputs.evaluation, toolbox: toolbox)
        return PreparedTraining(algorithm: grpo, model: inputs.model, arguments: config.training)
    }
}
