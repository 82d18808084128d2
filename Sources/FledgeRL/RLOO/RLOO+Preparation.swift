extension RLOO: ConfiguredAlgorithm {
    /// RLOO as `config` describes it (see ``ConfiguredAlgorithm/prepare(_:communicator:progress:)``), in
    /// one process, with the tools and environment of `tools` / `environment_command`.
    public static func prepare(_ config: RLOOConfig, communicator: any Communicator = SingleProcess(),
                               progress: (String) -> Void = { _ in }) throws -> PreparedTraining<RLOO> {
        try communicator.requireSingleProcess(for: .rloo)
        let inputs = try GroupSamplingInputs(config, rewards: nil, dataset: nil, progress: progress)
        let rloo = try RLOO(model: inputs.model, tokenizer: inputs.tokenizer, dataset: inputs.dataset, rewards: inputs.rewards,
                            config: config, reference: inputs.reference, evaluationDataset: inputs.evaluation,
                            toolbox: try config.agent.toolbox())
        return PreparedTraining(algorithm: rloo, model: inputs.model, arguments: config.training)
    }
}
