import FledgeTensor

/// How one parameter's Adam moments are stored: float32 (`AdamMoments`) or 8-bit
/// (`QuantizedAdamMoments`).
protocol AdamMomentStorage {
    /// Bytes held.
    var byteCount: Int { get }
    /// How errors describe the state, e.g. "8-bit state".
    var kind: String { get }
    /// Applies `update` to elements `elements` of the parameter and of the moments (a chunk
    /// from `ParallelChunks`; chunks of one parameter may run at the same time).
    func step(_ parameter: Parameter, gradient: Tensor, _ update: AdamUpdate, elements: Range<Int>)
    /// The moments as named safetensors entries.
    func entries(for parameter: Parameter) -> [(name: String, entry: SafeTensorsWriter.Entry)]
    /// Reads the entries written by `entries(for:)` and returns what puts them in place; `owner`
    /// describes the parameter in errors.
    func read(for parameter: Parameter, from reader: OptimizerStateReader, owner: String) throws -> () -> Void
}

/// What `AdamW` and `AdamW8bit` share: the parameters, hyperparameters, step counts and each
/// parameter's moments, and the step, save and load that work on them.
final class AdamState {
    let parameters: [Parameter]
    let beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double
    private(set) var steps: StepCounts
    private let moments: [any AdamMomentStorage]

    /// State for `parameters` (names must be unique; `optimizer` names the optimizer in that
    /// check), with moments made by `storage` for each parameter.
    init(
        optimizer: String, parameters: [Parameter], beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double,
        storage: (Parameter) -> any AdamMomentStorage
    ) {
        Parameter.requireUniqueNames(parameters, optimizer: optimizer)
        self.parameters = parameters
        (self.beta1, self.beta2, self.epsilon, self.weightDecay) = (beta1, beta2, epsilon, weightDecay)
        steps = StepCounts(parameterCount: parameters.count)
        moments = parameters.map(storage)
    }

    var byteCount: Int { moments.reduce(0) { $0 + $1.byteCount } }

    /// One optimizer step at `learningRate` for the parameters that have a gradient, their chunks
    /// spread over the cores.
    func step(learningRate: Double) {
        steps.advanceTotal()
        let updates = parameters.indices.compactMap { index -> (index: Int, gradient: Tensor, update: AdamUpdate)? in
            guard let gradient = parameters[index].gradient else { return nil }
            let update = AdamUpdate(
                learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                decays: parameters[index].decays, step: steps.advance(parameter: index))
            return (index, gradient, update)
        }
        ParallelChunks.forEach(counts: updates.map { parameters[$0.index].tensor.count }) { item, elements in
            let (index, gradient, update) = updates[item]
            moments[index].step(parameters[index], gradient: gradient, update, elements: elements)
        }
    }

    /// The step counts and every parameter's moments as safetensors entries.
    func entries() -> [(name: String, entry: SafeTensorsWriter.Entry)] {
        steps.entries(parameters) + zip(parameters, moments).flatMap { $1.entries(for: $0) }
    }

    /// Restores everything `entries()` wrote, or nothing when an entry is missing or mismatched.
    func load(from file: SafeTensorsFile) throws {
        let reader = OptimizerStateReader(file: file)
        let counts = try StepCounts.read(from: reader, parameters)
        let restores = try zip(parameters, moments).map { parameter, moments in
            try moments.read(for: parameter, from: reader, owner: "parameter '\(parameter.name)' (\(moments.kind))")
        }
        for restore in restores { restore() }
        steps = counts
    }
}
