import FledgeTensor

/// Adam's float32 moments for one parameter (`exp_avg` and `exp_avg_sq` in PyTorch), and the
/// step that updates them with the parameter.
struct AdamMoments: AdamMomentStorage {
    /// The running mean of the gradient.
    let firstMoment: Tensor
    /// The running mean of the squared gradient.
    let secondMoment: Tensor

    /// Zero moments shaped like `parameter`.
    init(like parameter: Parameter) {
        firstMoment = .zeros(parameter.tensor.shape)
        secondMoment = .zeros(parameter.tensor.shape)
    }

    /// Bytes held by the two moments.
    var byteCount: Int { 2 * firstMoment.count * MemoryLayout<Float>.stride }

    var kind: String { "float32 state" }

    /// Applies `update` to elements `elements` of the parameter and both moments.
    func step(_ parameter: Parameter, gradient: Tensor, _ update: AdamUpdate, elements: Range<Int>) {
        parameter.tensor.withUnsafeMutableElements { p in
            gradient.withUnsafeElements { g in
                firstMoment.withUnsafeMutableElements { m in
                    secondMoment.withUnsafeMutableElements { v in
                        let start = elements.lowerBound
                        update.apply(
                            parameter: p.baseAddress! + start, gradient: g.baseAddress! + start,
                            firstMoment: m.baseAddress! + start, secondMoment: v.baseAddress! + start, count: elements.count)
                    }
                }
            }
        }
    }

    /// The moments as `exp_avg/<name>` and `exp_avg_sq/<name>` (F32).
    func entries(for parameter: Parameter) -> [(name: String, entry: SafeTensorsWriter.Entry)] {
        [("exp_avg/\(parameter.name)", .float(firstMoment, .float32)),
         ("exp_avg_sq/\(parameter.name)", .float(secondMoment, .float32))]
    }

    /// Reads the moments written by `entries(for:)` and returns what puts them in place; `owner`
    /// describes the parameter in errors.
    func read(for parameter: Parameter, from reader: OptimizerStateReader, owner: String) throws -> () -> Void {
        let shape = parameter.tensor.shape
        let first = try reader.floats("exp_avg/\(parameter.name)", shape: shape, owner: owner)
        let second = try reader.floats("exp_avg_sq/\(parameter.name)", shape: shape, owner: owner)
        return {
            firstMoment.overwrite(with: first)
            secondMoment.overwrite(with: second)
        }
    }
}
