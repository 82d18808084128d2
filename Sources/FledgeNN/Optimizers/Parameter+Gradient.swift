import FledgeTensor

extension Parameter {
    /// The accumulated gradient, or nil when backward reached no gradient to this parameter
    /// (optimizers then skip it, as PyTorch does).
    var gradient: Tensor? {
        guard let grad = tensor.grad else { return nil }
        precondition(grad.shape == tensor.shape, "gradient of \(name) has shape \(grad.shape), expected \(tensor.shape)")
        return grad
    }

    /// Stops with a message naming `optimizer` when two parameters share a name (state is saved by name).
    static func requireUniqueNames(_ parameters: [Parameter], optimizer: String) {
        var seen: Set<String> = []
        for parameter in parameters {
            precondition(seen.insert(parameter.name).inserted, "\(optimizer): parameter name \(parameter.name) appears twice; names key the saved state")
        }
    }
}
