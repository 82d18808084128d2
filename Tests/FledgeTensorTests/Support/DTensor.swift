import Foundation
@testable import FledgeTensor

/// A plain float64 tensor for reference implementations: the slow, obvious version of each
/// op that the engine is checked against (and finite-differenced in double precision).
struct DTensor {
    var shape: [Int]
    var values: [Double]

    init(shape: [Int], values: [Double]) {
        precondition(shape.reduce(1, *) == values.count, "DTensor shape \(shape) vs \(values.count) values")
        self.shape = shape
        self.values = values
    }

    init(_ tensor: Tensor) {
        self.init(shape: tensor.shape, values: tensor.toArray().map(Double.init))
    }

    static func zeros(_ shape: [Int]) -> DTensor { DTensor(shape: shape, values: .init(repeating: 0, count: shape.reduce(1, *))) }

    var count: Int { values.count }
    var rank: Int { shape.count }
    var strides: [Int] { Shape.contiguousStrides(shape) }

    func index(_ flat: Int) -> [Int] {
        var rest = flat
        return strides.map { stride in
            defer { rest %= stride }
            return rest / stride
        }
    }

    func flat(_ index: [Int]) -> Int { Swift.zip(index, strides).reduce(0) { $0 + $1.0 * $1.1 } }

    subscript(_ index: [Int]) -> Double {
        get { values[flat(index)] }
        set { values[flat(index)] = newValue }
    }

    func map(_ f: (Double) -> Double) -> DTensor { DTensor(shape: shape, values: values.map(f)) }

    /// Reads `self` broadcast to `target` at `index` (trailing dimensions aligned).
    func broadcastValue(at index: [Int], target: [Int]) -> Double {
        let lead = target.count - rank
        let own = (0..<rank).map { shape[$0] == 1 ? 0 : index[lead + $0] }
        return self[own]
    }

    static func zip(_ a: DTensor, _ b: DTensor, _ f: (Double, Double) -> Double) -> DTensor {
        let target = Shape.broadcast(a.shape, b.shape)
        var out = DTensor.zeros(target)
        for i in 0..<out.count {
            let index = out.index(i)
            out.values[i] = f(a.broadcastValue(at: index, target: target), b.broadcastValue(at: index, target: target))
        }
        return out
    }

    func expanded(to target: [Int]) -> DTensor {
        var out = DTensor.zeros(target)
        for i in 0..<out.count { out.values[i] = broadcastValue(at: out.index(i), target: target) }
        return out
    }

    /// The values along `axis` through `index` (whose entry at `axis` is ignored).
    func line(through index: [Int], axis: Int) -> [Double] {
        var position = index
        return (0..<shape[axis]).map { j in
            position[axis] = j
            return self[position]
        }
    }

    /// Folds `axis` away with `f` over the values along it.
    func reduce(axis: Int, keepDims: Bool = false, _ f: ([Double]) -> Double) -> DTensor {
        var kept = shape
        kept[axis] = 1
        var out = DTensor.zeros(kept)
        for i in 0..<out.count { out.values[i] = f(line(through: out.index(i), axis: axis)) }
        if !keepDims { out.shape.remove(at: axis) }
        return out
    }

    /// Applies `f` to every line along `axis`, keeping the shape.
    func alongAxis(_ axis: Int, _ f: ([Double]) -> [Double]) -> DTensor {
        var out = self
        var kept = shape
        kept[axis] = 1
        let outer = DTensor.zeros(kept)
        for i in 0..<outer.count {
            var index = outer.index(i)
            for (j, value) in f(line(through: index, axis: axis)).enumerated() {
                index[axis] = j
                out[index] = value
            }
        }
        return out
    }

    func permuted(_ order: [Int]) -> DTensor {
        var out = DTensor.zeros(order.map { shape[$0] })
        for i in 0..<out.count {
            let index = out.index(i)
            var source = [Int](repeating: 0, count: rank)
            for (position, axis) in order.enumerated() { source[axis] = index[position] }
            out.values[i] = self[source]
        }
        return out
    }

    func reshaped(_ newShape: [Int]) -> DTensor { DTensor(shape: newShape, values: values) }

    func slice(axis: Int, _ range: Range<Int>) -> DTensor {
        var newShape = shape
        newShape[axis] = range.count
        var out = DTensor.zeros(newShape)
        for i in 0..<out.count {
            var index = out.index(i)
            index[axis] += range.lowerBound
            out.values[i] = self[index]
        }
        return out
    }

    static func concat(_ parts: [DTensor], axis: Int) -> DTensor {
        var shape = parts[0].shape
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        var out = DTensor.zeros(shape)
        for i in 0..<out.count {
            var index = out.index(i)
            var part = 0
            while index[axis] >= parts[part].shape[axis] {
                index[axis] -= parts[part].shape[axis]
                part += 1
            }
            out.values[i] = parts[part][index]
        }
        return out
    }

    /// Batched matrix product with broadcast batch dimensions.
    static func matmul(_ a: DTensor, _ b: DTensor) -> DTensor {
        let (m, k, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1], b.shape[b.rank - 1])
        let batch = Shape.broadcast(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)))
        var out = DTensor.zeros(batch + [m, n])
        for flatIndex in 0..<out.count {
            let index = out.index(flatIndex)
            let batchIndex = Array(index.dropLast(2))
            let (i, j) = (index[index.count - 2], index[index.count - 1])
            var total = 0.0
            for p in 0..<k {
                total += a.broadcastValue(at: batchIndex + [i, p], target: batch + [m, k])
                    * b.broadcastValue(at: batchIndex + [p, j], target: batch + [k, n])
            }
            out.values[flatIndex] = total
        }
        return out
    }

    func transposedLastTwo() -> DTensor {
        var order = Array(0..<rank)
        order.swapAt(rank - 2, rank - 1)
        return permuted(order)
    }

    static func + (a: DTensor, b: DTensor) -> DTensor { zip(a, b, +) }
    static func - (a: DTensor, b: DTensor) -> DTensor { zip(a, b, -) }
    static func * (a: DTensor, b: DTensor) -> DTensor { zip(a, b, *) }
    static func / (a: DTensor, b: DTensor) -> DTensor { zip(a, b, /) }
}

func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
func logSumExp(_ line: [Double]) -> Double {
    let peak = line.max()!
    return peak + log(line.reduce(0) { $0 + exp($1 - peak) })
}
