/// One step of the autograd tape: how the gradient of a result flows to its inputs,
/// or, for a trainable leaf, where the gradient accumulates.
final class GradNode {
    /// The rule and the tensors it saved; released as soon as the rule has run.
    var rule: BackwardRule?
    /// The node of each input, or nil where that input needs no gradient.
    var parents: [GradNode?]
    /// The trainable leaf this node accumulates into (leaf nodes only).
    weak var leaf: Tensor?
    let isLeaf: Bool
    let shape: [Int]

    init(rule: BackwardRule, parents: [GradNode?], shape: [Int]) {
        self.rule = rule
        self.parents = parents
        self.shape = shape
        isLeaf = false
    }

    init(leaf: Tensor) {
        self.leaf = leaf
        parents = []
        shape = leaf.shape
        isLeaf = true
    }
}

extension Tensor {
    /// Whether gradients flow to this tensor. Set it on a leaf to make it trainable
    /// (its `grad` then accumulates in `backward()`), or to false to freeze it.
    public var requiresGrad: Bool {
        get { node != nil }
        set {
            precondition(
                node == nil || node!.isLeaf,
                "requiresGrad can only be changed on a leaf tensor; use detached() for a computed one")
            node = newValue ? (node ?? GradNode(leaf: self)) : nil
        }
    }

    /// Whether this tensor was created by the user rather than computed from trainable tensors.
    public var isLeaf: Bool { node?.isLeaf ?? true }

    /// Marks `self` as the result of an op on `inputs`; `rule` (evaluated only when some
    /// input requires grad and grad mode is on) says how the gradient flows back.
    func recording(_ inputs: [Tensor], _ rule: @autoclosure () -> BackwardRule) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.node != nil }) else { return self }
        node = GradNode(rule: rule(), parents: inputs.map(\.node), shape: shape)
        return self
    }
}
