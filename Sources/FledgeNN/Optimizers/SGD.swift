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
        for (index, parameter) in parameters.enumerated() {
            guard let gradient = parameter.gradient else { continue }
            let update = SGDUpdate(
                learningRate: learningRate, momentum: momentum, weightDecay: parameter.decays ? weightDecay : 0,
                nesterov: nesterov, firstStep: steps.advance(parameter: index) == 1)
            parameter.tensor.withUnsafeMutableElements { p in
                gradient.withUnsafeElements { g in
                    if buffers.isEmpty { return update.apply(parameter: p, gradient: g, buffer: nil) }
                    buffers[index].withUnsafeMutableElements { update.apply(parameter: p, gradient: g, buffer: $0) }
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

    func apply(parameter: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>, buffer: UnsafeMutableBufferPointer<Float>?) {
        let decay = Float(weightDecay), mu = Float(momentum), negativeRate = Float(-learningRate)
        let (p, g) = (parameter.baseAddress!, gradient.baseAddress!)
        Parallel.forRanges(parameter.count, minChunk: 1 << 15) { range in
            for start in stride(from: range.lowerBound, to: range.upperBound, by: 8) {
                let lanes = min(8, range.upperBound - start)
                var direction = SIMD8<Float>(loading: g + start, count: lanes)
                var value = SIMD8<Float>(loading: p + start, count: lanes)
                if decay != 0 { direction = direction + decay * value }
                if let b = buffer?.baseAddress {
                    let momentumBuffer = firstStep ? direction : mu * SIMD8<Float>(loading: b + start, count: lanes) + direction
                    momentumBuffer.store(to: b + start, count: lanes)
                    direction = nesterov ? direction + mu * momentumBuffer : momentumBuffer
                }
                value = value + negativeRate * direction
                value.store(to: p + start, count: lanes)
            }
        }
    }
}
