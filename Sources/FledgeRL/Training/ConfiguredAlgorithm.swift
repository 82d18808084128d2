/// A training algorithm that builds itself, ready to train, from its resolved config alone: what
/// `fledge sft|dpo|kto|ppo|grpo|rloo|reward|distill` run, what `examples/library` calls, and what the tests load runs
/// through, so all of them assemble an algorithm the same way.
public protocol ConfiguredAlgorithm: TrainingAlgorithm {
    /// The config it is built from (TRL's `…Config`).
    associatedtype Config: TrainerConfig

    /// Loads what `config` names — the model (LoRA or full), its tokenizer, the reference policy, the
    /// training and evaluation splits, the rewards — and builds the algorithm for this process of
    /// `communicator`; `progress` receives a line on each thing loaded that a user wants to see.
    static func prepare(_ config: Config, communicator: any Communicator,
                        progress: (String) -> Void) throws -> PreparedTraining<Self>
}
