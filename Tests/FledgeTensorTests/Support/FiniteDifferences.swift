/// Numerical gradients in double precision by central differences.
enum FiniteDifferences {
    /// d/d inputs of Σ f(inputs) ⊙ upstream, one gradient per input in `which`.
    static func gradients(
        of f: ([DTensor]) -> DTensor, at inputs: [DTensor], upstream: DTensor, which: [Int], step: Double = 1e-6
    ) -> [DTensor] {
        func objective(_ point: [DTensor]) -> Double {
            let out = f(point)
            precondition(out.count == upstream.count, "finite differences: output \(out.shape) vs upstream \(upstream.shape)")
            return zip(out.values, upstream.values).reduce(0) { $0 + $1.0 * $1.1 }
        }
        return which.map { input in
            var grad = DTensor.zeros(inputs[input].shape)
            var point = inputs
            for i in 0..<grad.count {
                let original = point[input].values[i]
                let h = step * Swift.max(1, Swift.abs(original))
                point[input].values[i] = original + h
                let plus = objective(point)
                point[input].values[i] = original - h
                let minus = objective(point)
                point[input].values[i] = original
                grad.values[i] = (plus - minus) / (2 * h)
            }
            return grad
        }
    }
}
