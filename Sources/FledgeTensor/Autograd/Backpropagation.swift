extension Tensor {
    /// Computes the gradient of `self` with respect to every trainable leaf it depends on and
    /// adds it to that leaf's `grad`.
    ///
    /// Visits only nodes that lead to a trainable leaf; each node's saved tensors are freed as
    /// soon as its rule has run, so the graph can be walked only once. `gradient` defaults to
    /// one for a single-element tensor.
    public func backward(gradient: Tensor? = nil) {
        guard let root = node else {
            preconditionFailure("backward() on a tensor that does not require grad: no trainable tensor leads to it")
        }
        let seed = gradient ?? {
            precondition(count == 1, "backward() without a gradient needs a single-element tensor, got shape \(shape)")
            return Tensor.ones(shape)
        }()
        precondition(seed.shape == shape, "backward(gradient:) got shape \(seed.shape), expected \(shape)")

        let order = GradNode.topologicalOrder(from: root)
        var pending: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed]
        Tensor.withoutGrad {
            for current in order.reversed() {
                guard var grad = pending.removeValue(forKey: ObjectIdentifier(current)) else { continue }
                if current.isLeaf {
                    current.leaf?.accumulateGrad(&grad)
                    continue
                }
                guard let rule = current.rule else {
                    preconditionFailure("backward() through a graph that was already freed by an earlier backward()")
                }
                let parents = current.parents
                let grads = rule.inputGradients(grad, needed: parents.map { $0 != nil })
                current.rule = nil
                current.parents = []
                for (parent, inputGrad) in zip(parents, grads) {
                    guard let parent, let inputGrad else { continue }
                    precondition(
                        inputGrad.shape == parent.shape,
                        "internal error: \(rule.name) produced a gradient of shape \(inputGrad.shape) for an input of shape \(parent.shape)")
                    let key = ObjectIdentifier(parent)
                    pending[key] = pending[key].map { $0 + inputGrad } ?? inputGrad
                }
            }
        }
    }

    /// Adds `gradient` into `grad`, which is always a contiguous tensor owned by this leaf: the
    /// first gradient is adopted as it is when nothing else refers to it or its memory, and
    /// copied otherwise.
    func accumulateGrad(_ gradient: inout Tensor) {
        guard let existing = grad else {
            if gradient.isContiguous, isKnownUniquelyReferenced(&gradient), gradient.hasExclusiveStorage() {
                grad = gradient
                return
            }
            let owned = Tensor(uninitializedShape: shape)
            gradient.copyElements(into: owned.pointer)
            grad = owned
            return
        }
        let addend = gradient.contiguous()
        let target = existing.pointer, source = addend.pointer
        for index in 0..<count { target[index] += source[index] }
    }

    /// Drops the accumulated gradient.
    public func zeroGrad() { grad = nil }
}

extension GradNode {
    /// Nodes reachable from `root` through parents, each after all of its parents.
    static func topologicalOrder(from root: GradNode) -> [GradNode] {
        var order: [GradNode] = []
        var visited: Set<ObjectIdentifier> = [ObjectIdentifier(root)]
        var stack: [(node: GradNode, nextParent: Int)] = [(root, 0)]
        while let top = stack.last {
            if top.nextParent < top.node.parents.count {
                stack[stack.count - 1].nextParent += 1
                if let parent = top.node.parents[top.nextParent], visited.insert(ObjectIdentifier(parent)).inserted {
                    stack.append((parent, 0))
                }
            } else {
                order.append(top.node)
                stack.removeLast()
            }
        }
        return order
    }
}
