import FledgeTensor

/// Stochastic gradient descent with optional momentum and Nesterov momentum, computing what
/// `torch.optim.SGD` computes on the CPU (dampening 0):
///
///     d ← g + wd·p                              (L2 weight decay, for parameters that `decays`)
///     b ← d on a parameter's first step, else μ·b + d
///     d ← d + μ·b with Nesterov, else b         (when μ ≠ 0)
///     p ← p − lr·d
///
/// With momentum, the state is one float32 buffer per parameter, saved as
/// `momentum_buffer/<name>` with the step counts (see `StepCounts`).
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    /// The momentum factor μ (0: none).
    public let momentum: Double
    /// The L2 weight decay added to the gradient of parameters whose `decays` is true.
    public let weightDecay: Double
    /// Whether to use Nesterov momentum.
    public let nesterov: Bool

    private var steps: StepCounts
    private let buffers: [Tensor]

    /// An optimizer for `parameters` (names must be unique); Nesterov needs a positive momentum.
    public init(parameters: [Parameter], momentum: Double = 0, weightDecay: Double = 0, nesterov: Bool = false) {
        Parameter.requireUniqueNames(parameters, optimizer: "SGD")
        precondition(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0 (got \(momentum))")
        self.parameters = parameters
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        steps = StepCounts(parameterCount: parameters.count)
        buffers = momentum == 0 ? [] : parameters.map { .zeros($0.tensor.shape) }
    }

    public var stepCount: Int { steps.total }

    public var stateBytes: Int { buffers.reduce(0) { $0 + $1.count * MemoryLayout<Float>.stride } }

    public func step(learningRate: Double) {
        steps.advanceTotal()
        let updates = parameters.indices.compactMap { index -> (index: Int, gradient: Tensor, update: SGDUpdate)? in
            guard let gradient = parameters[index].gradient else { return nil }
            let update = SGDUpdate(
                learningRate: learningRate, momentum: momentum, weightDecay: parameters[index].decays ? weightDecay : 0,
                nesterov: nesterov, firstStep: steps.advance(parameter: index) == 1)
            return (index, gradient, update)
        }
        ParallelChunks.forEach(counts: updates.map { parameters[$0.index].tensor.count }) { item, elements in
            let (index, gradient, update) = updates[item]
            parameters[index].tensor.withUnsafeMutableElements { p in
                gradient.withUnsafeElements { g in
                    guard let buffer = buffers.isEmpty ? nil : buffers[index] else {
                        return update.apply(parameter: p.baseAddress!, gradient: g.baseAddress!, buffer: nil, elements: elements)
                    }
                    buffer.withUnsafeMutableElements {
                        update.apply(parameter: p.baseAddress!, gradient: g.baseAddress!, buffer: $0.baseAddress!, elements: elements)
                    }
                }
            }
        }
    }

    public func stateEntries() -> [(name: String, entry: SafeTensorsWriter.Entry)] {
        steps.entries(parameters) + zip(parameters, buffers).map { ("momentum_buffer/\($0.name)", .float($1, .float32)) }
    }

    public func loadState(from file: SafeTensorsFile) throws {
        let reader = OptimizerStateReader(file: file)
        let counts = try StepCounts.read(from: reader, parameters)
        let saved = try zip(parameters, buffers).map { parameter, buffer in
            try reader.floats("momentum_buffer/\(parameter.name)", shape: buffer.shape, owner: "parameter '\(parameter.name)'")
        }
        for (buffer, values) in zip(buffers, saved) { buffer.overwrite(with: values) }
        steps = counts
    }
}

/// One SGD step's elementwise update, with the scalars rounded to float32 as PyTorch rounds them.
private struct SGDUpdate {
    let learningRate: Double, momentum: Double, weightDecay: Double, nesterov: Bool, firstStep: Bool

    /// Updates elements `elements` of the parameter (and of the momentum buffer, if any).
    func apply(parameter p: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>, buffer: UnsafeMutablePointer<Float>?, elements: Range<Int>) {
        let decay = Float(weightDecay), mu = Float(momentum), negativeRate = Float(-learningRate)
        for start in stride(from: elements.lowerBound, to: elements.upperBound, by: 8) {
            let lanes = min(8, elements.upperBound - start)
            var direction = SIMD8<Float>(loading: g + start, count: lanes)
            var value = SIMD8<Float>(loading: p + start, count: lanes)
            if decay != 0 { direction = direction + decay * value }
            if let buffer {
                let momentumBuffer = firstStep ? direction : mu * SIMD8<Float>(loading: buffer + start, count: lanes) + direction
                momentumBuffer.store(to: buffer + start, count: lanes)
                direction = nesterov ? direction + mu * momentumBuffer : momentumBuffer
            }
            value = value + negativeRate * direction
            value.store(to: p + start, count: lanes)
        }
    }
}
