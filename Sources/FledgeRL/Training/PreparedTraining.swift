/// A training algorithm built from a resolved config (``ConfiguredAlgorithm``), with what the trainer
/// loop needs beside it: the model it updates (PPO's: the policy and the value model) and the
/// training arguments it steps by (PPO's carry its own step geometry).
public struct PreparedTraining<Algorithm: TrainingAlgorithm> {
    public let algorithm: Algorithm
    /// The weights the optimizer updates and the checkpoints save.
    public let model: any TrainableModel
    /// The training arguments the trainer loop runs with.
    public let arguments: TrainingArguments

    public init(algorithm: Algorithm, model: any TrainableModel, arguments: TrainingArguments) {
        self.algorithm = algorithm
        self.model = model
        self.arguments = arguments
    }

    /// The trainer loop for the algorithm (see ``Trainer/init(algorithm:model:arguments:)``).
    public func trainer() throws -> Trainer<Algorithm> {
        try Trainer(algorithm: algorithm, model: model, arguments: arguments)
    }
}
