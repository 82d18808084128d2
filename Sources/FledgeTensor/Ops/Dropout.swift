extension Tensor {
    /// Inverted dropout: each element is zeroed with `probability` and the rest are scaled by
    /// `1 / (1 − probability)`, as `torch.nn.Dropout` does in training. The mask is drawn from
    /// `generator`, one number per element in row-major order, so a seed reproduces it.
    ///
    /// Returns `self` unchanged when `probability` is 0 or outside training
    /// (`GradMode.isTraining` false: inference, generation, reference log-probs).
    public func dropout(probability: Float, using generator: inout SeededGenerator) -> Tensor {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1), got \(probability)")
        guard probability > 0, GradMode.isTraining else { return self }
        let keep = 1 / (1 - probability)
        let mask = Tensor(shape: shape) { buffer in
            for i in buffer.indices { buffer[i] = generator.nextUnitFloat() < probability ? 0 : keep }
        }
        return self * mask
    }
}
