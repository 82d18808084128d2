/// A segment of a computation whose activations are not kept: the forward pass runs without
/// recording, and backward runs it again with recording on to get the gradients (PyTorch's
/// `torch.utils.checkpoint`, used per decoder layer for gradient checkpointing).
final class CheckpointedSegment {
    /// The segment's inputs, detached (views of the caller's tensors; nothing else is kept).
    let inputs: [Tensor]
    let body: ([Tensor]) -> Tensor

    init(inputs: [Tensor], body: @escaping ([Tensor]) -> Tensor) {
        self.inputs = inputs.map { $0.detached() }
        self.body = body
    }

    /// Re-runs the body with recording on, on fresh leaves for the inputs that take a gradient,
    /// and backpropagates `grad` through it: trainable leaves the body reads accumulate their
    /// gradients as usual, and the inputs' gradients are returned (nil where not `needed`).
    func inputGradients(_ grad: Tensor, needed: [Bool]) -> [Tensor?] {
        let leaves = zip(inputs, needed).map { input, isNeeded in
            let leaf = input.detached()
            leaf.requiresGrad = isNeeded
            return leaf
        }
        let output = GradMode.$isEnabled.withValue(true) { body(leaves) }
        if output.requiresGrad { output.backward(gradient: grad) }
        return zip(leaves, needed).map { leaf, isNeeded in
            isNeeded ? leaf.grad ?? Tensor.zeros(leaf.shape) : nil
        }
    }
}

extension Tensor {
    /// `body(inputs)`, computed without keeping its activations when grad mode is on: only the
    /// inputs are kept, and backward recomputes the body to propagate gradients into the inputs
    /// and into every trainable leaf the body reads.
    ///
    /// `parameters` are the trainable tensors the body reads; the segment records a node when any
    /// input or any of them requires grad (a segment whose inputs are frozen, such as the first
    /// decoder layer of a LoRA model, must still be visited in backward). The body runs twice,
    /// so it must compute the same result both times: it may read `GradMode.isTraining`, which is
    /// true in both passes, and randomness in it must be replayed (save the generator state before
    /// the call and restore it in the body). Gradients equal those of the plain computation.
    public static func checkpointed(
        inputs: [Tensor], parameters: [Tensor], body: @escaping ([Tensor]) -> Tensor
    ) -> Tensor {
        guard GradMode.enabled, inputs.contains(where: \.requiresGrad) || parameters.contains(where: \.requiresGrad) else {
            return body(inputs)
        }
        let segment = CheckpointedSegment(inputs: inputs, body: body)
        let output = GradMode.$isCheckpointPass.withValue(true) {
            Tensor.withoutGrad { body(segment.inputs) }
        }
        output.node = GradNode(rule: .checkpoint(segment), parents: inputs.map(\.node), shape: output.shape)
        return output
    }
}
