/// How an op's output is made again in the backward from tensors that the op's own backward rule
/// keeps, so that the rules of the ops after it need not keep the output alive from the forward
/// to the backward.
///
/// In a decoder layer the two RMSNorm outputs and the gated product `act(gate) · up` are the inputs
/// of the projections after them, whose backward needs them for the weights' (or LoRA factors')
/// gradients: kept, they are about a third of what a training pass keeps per layer. Made again, each
/// costs one elementwise pass in the backward and gives the same values bit for bit (the same
/// float operations in the same order), so the gradients do not change.
///
/// Made on the first rule's request and shared by every rule that asks for it; freed with the last
/// of those rules (the backward releases each rule as soon as it has run). While the output itself
/// is still alive (another op kept it), that is used instead of a second copy.
final class Recomputation {
    private let make: () -> Tensor
    private weak var original: TensorStorage?
    private let shape: [Int]
    private var made: Tensor?

    /// The recomputation of `output`, a contiguous tensor of its own storage, by `make`.
    init(of output: Tensor, _ make: @escaping () -> Tensor) {
        precondition(output.isContiguous && output.offset == 0, "a recomputed output is a contiguous tensor of its own")
        self.make = make
        original = output.storage
        shape = output.shape
    }

    /// The output: the original while it is alive, else made again (once).
    var tensor: Tensor {
        if let made { return made }
        let tensor = original.map { Tensor(storage: $0, shape: shape, strides: Shape.contiguousStrides(shape)) }
            ?? Tensor.withoutGrad(make)
        made = tensor
        return tensor
    }
}

/// A tensor that a backward rule needs: kept from the forward, or made again (``Recomputation``).
enum SavedTensor {
    case kept(Tensor)
    case recomputed(Recomputation)

    /// What a rule saves of `tensor`: its recomputation when it has one, else a detached view.
    init(_ tensor: Tensor) {
        if let recomputation = tensor.recomputation {
            self = .recomputed(recomputation)
        } else {
            self = .kept(tensor.detached())
        }
    }

    var tensor: Tensor {
        switch self {
        case .kept(let tensor): tensor
        case .recomputed(let recomputation): recomputation.tensor
        }
    }
}

extension Tensor {
    /// Lets the rules of the ops that read `self` save `make` (which makes `self` again) instead of
    /// `self`, when `self` was recorded: `make` must read only tensors that `self`'s own rule keeps,
    /// so that it keeps nothing more alive.
    func recomputable(_ make: @escaping () -> Tensor) -> Tensor {
        if node != nil { recomputation = Recomputation(of: self, make) }
        return self
    }
}
