import FledgeTensor

/// Adam's moments for one parameter in 8 bits: the first moment with the signed dynamic map, the
/// second with the unsigned one, each in blocks of 256 with a float32 absmax per block.
///
/// A step dequantizes a block of both moments into float32 scratch, applies the same update as
/// `AdamW` to the parameter with those moments, and quantizes the new moments back, block by
/// block: bitsandbytes' blockwise 8-bit Adam.
struct QuantizedAdamMoments: AdamMomentStorage {
    let firstMoment: BlockwiseQuantized
    let secondMoment: BlockwiseQuantized

    /// Zero moments for `count` elements.
    init(count: Int) {
        firstMoment = BlockwiseQuantized(count: count, map: .signed)
        secondMoment = BlockwiseQuantized(count: count, map: .unsigned)
    }

    /// Bytes held by the codes and scales of both moments.
    var byteCount: Int { firstMoment.byteCount + secondMoment.byteCount }

    var kind: String { "8-bit state" }

    /// Applies `update` to elements `elements` of the parameter with the dequantized moments and
    /// requantizes them; `elements` must start at a block boundary.
    func step(_ parameter: Parameter, gradient: Tensor, _ update: AdamUpdate, elements: Range<Int>) {
        let blockSize = BlockwiseQuantized.blockSize
        precondition(elements.lowerBound % blockSize == 0, "8-bit state is updated in whole blocks")
        parameter.tensor.withUnsafeMutableElements { p in
            gradient.withUnsafeElements { g in
                firstMoment.withBlocks { first in
                    secondMoment.withBlocks { second in
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * blockSize) { scratch in
                            let m = scratch.baseAddress!, v = m + blockSize
                            for block in elements.lowerBound / blockSize..<BlockwiseQuantized.blockCount(elements.upperBound) {
                                let start = block * blockSize
                                first.dequantize(block: block, into: m)
                                second.dequantize(block: block, into: v)
                                update.apply(
                                    parameter: p.baseAddress! + start, gradient: g.baseAddress! + start,
                                    firstMoment: m, secondMoment: v, count: first.range(ofBlock: block).count)
                                first.quantize(block: block, from: m)
                                second.quantize(block: block, from: v)
                            }
                        }
                    }
                }
            }
        }
    }

    private var namedMoments: [(key: String, state: BlockwiseQuantized)] {
        [("exp_avg", firstMoment), ("exp_avg_sq", secondMoment)]
    }

    /// The moments as `exp_avg/<name>`, `exp_avg_sq/<name>` (U8 codes shaped like the parameter)
    /// and `exp_avg_absmax/<name>`, `exp_avg_sq_absmax/<name>` (F32, one per block).
    func entries(for parameter: Parameter) -> [(name: String, entry: SafeTensorsWriter.Entry)] {
        namedMoments.flatMap { key, state -> [(name: String, entry: SafeTensorsWriter.Entry)] in
            [("\(key)/\(parameter.name)", .integers(state.codes.map(Int.init), shape: parameter.tensor.shape, .uint8)),
             ("\(key)_absmax/\(parameter.name)", .float(Tensor(shape: [state.absmax.count], values: state.absmax), .float32))]
        }
    }

    /// Reads the moments written by `entries(for:)` and returns what puts them in place; `owner`
    /// describes the parameter in errors.
    func read(for parameter: Parameter, from reader: OptimizerStateReader, owner: String) throws -> () -> Void {
        let saved = try namedMoments.map { key, state in
            (state,
             try reader.bytes("\(key)/\(parameter.name)", shape: parameter.tensor.shape, owner: owner),
             try reader.floats("\(key)_absmax/\(parameter.name)", shape: [state.absmax.count], owner: owner).toArray())
        }
        return {
            for (state, codes, absmax) in saved { state.restore(codes: codes, absmax: absmax) }
        }
    }
}
