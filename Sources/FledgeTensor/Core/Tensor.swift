/// An n-dimensional array of `Float`s with autograd.
///
/// A tensor is a view — shape, strides and offset — into a shared `TensorStorage`, so
/// reshape (of contiguous data), transpose, permute, slicing and broadcasting copy nothing.
/// Compute is float32; float16 and bfloat16 exist only at load and store (`DType`).
///
/// A tensor takes part in autograd when it `requiresGrad`: a leaf becomes trainable when
/// you set `requiresGrad = true`, and every result computed from a trainable tensor (outside
/// `Tensor.withoutGrad`) records how to propagate gradients back. Frozen tensors record nothing.
public final class Tensor: @unchecked Sendable {
    /// The size of each dimension.
    public let shape: [Int]
    /// Elements to step in storage for one step along each dimension (0 for broadcast dims).
    public let strides: [Int]
    /// A `var` only so that `isKnownUniquelyReferenced` can ask about it; never reassigned.
    private(set) var storage: TensorStorage
    let offset: Int
    /// The autograd node that produced this tensor (or that accumulates into it, for leaves).
    var node: GradNode?
    /// How to make this tensor again in the backward, for the rules that read it (set by the ops
    /// whose outputs are cheap to remake; see ``Recomputation``), or nil.
    var recomputation: Recomputation?

    /// The gradient accumulated by `backward()`; contiguous, with this tensor's shape.
    public var grad: Tensor?

    init(storage: TensorStorage, shape: [Int], strides: [Int], offset: Int = 0) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A contiguous tensor of uninitialised memory (for kernels that write every element).
    init(uninitializedShape shape: [Int]) {
        let count = Shape.count(shape)
        storage = TensorStorage(count: count)
        self.shape = shape
        strides = Shape.contiguousStrides(shape)
        offset = 0
    }

    /// A contiguous tensor with the given row-major values.
    public convenience init(shape: [Int], values: [Float]) {
        precondition(
            Shape.count(shape) == values.count,
            "Tensor(shape: \(shape)) needs \(Shape.count(shape)) values, got \(values.count)")
        self.init(uninitializedShape: shape)
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A contiguous tensor filled by `body`, which receives the uninitialised buffer.
    public convenience init(shape: [Int], fill body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        self.init(uninitializedShape: shape)
        try body(UnsafeMutableBufferPointer(start: storage.pointer, count: Shape.count(shape)))
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor {
        let count = Shape.count(shape)
        return Tensor(storage: TensorStorage(zeros: count), shape: shape, strides: Shape.contiguousStrides(shape))
    }

    /// A tensor with every element equal to `value`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        Tensor(shape: shape) { $0.initialize(repeating: value) }
    }

    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

    /// A zero-dimensional tensor holding `value`.
    public static func scalar(_ value: Float) -> Tensor { Tensor(shape: [], values: [value]) }

    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { Shape.count(shape) }

    /// Whether the elements are laid out row-major with no gaps, starting at `offset`.
    public var isContiguous: Bool { Shape.isContiguous(shape: shape, strides: strides) }

    /// Pointer to the first element (valid while `self` is alive).
    var pointer: UnsafeMutablePointer<Float> { storage.pointer + offset }

    /// The elements in row-major order.
    public func toArray() -> [Float] {
        let source = contiguous()
        return Array(UnsafeBufferPointer(start: source.pointer, count: count))
    }

    /// The single element of a one-element tensor.
    public func item() -> Float {
        precondition(count == 1, "item() needs a tensor with one element, got shape \(shape)")
        return contiguous().pointer.pointee
    }

    /// Whether no other tensor shares this tensor's memory.
    func hasExclusiveStorage() -> Bool { isKnownUniquelyReferenced(&storage) }

    /// Whether the elements live in memory the engine borrows rather than owns: the private,
    /// copy-on-write mapping of a safetensors file (float32 weights loaded from a checkpoint).
    public var isMemoryMapped: Bool { storage.isBorrowed }

    /// A contiguous copy in newly allocated memory, with no autograd history.
    public func copied() -> Tensor {
        let copy = Tensor(uninitializedShape: shape)
        copyElements(into: copy.pointer)
        return copy
    }

    /// A new tensor object sharing this storage, with no autograd history.
    public func detached() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
    }

    /// Calls `body` with the contiguous elements; copies first when the tensor is a strided view.
    public func withUnsafeElements<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let source = contiguous()
        return try withExtendedLifetime(source) {
            try body(UnsafeBufferPointer(start: source.pointer, count: count))
        }
    }

    /// Calls `body` to modify the elements in place. Needs a contiguous tensor that is not
    /// part of an autograd graph (parameters are updated this way by optimizers).
    public func withUnsafeMutableElements<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        precondition(isContiguous, "in-place update needs a contiguous tensor, got strides \(strides)")
        return try body(UnsafeMutableBufferPointer(start: pointer, count: count))
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let values = toArray()
        let shown = values.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(values.count > 8 ? ", …" : "")])"
    }
}
