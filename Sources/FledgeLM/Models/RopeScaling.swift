import Foundation
import FledgeTensor

/// The rotary position embedding a config asks for, and the frequency table of each type,
/// computed in float32 as transformers' `modeling_rope_utils` does.
public struct RopeScaling: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case `default`, linear, dynamic, llama3
    }

    public var kind: Kind
    public var theta: Double
    public var factor: Double = 1
    public var lowFrequencyFactor: Double = 1
    public var highFrequencyFactor: Double = 4
    public var originalMaxPositions: Int = 8192

    public init(kind: Kind = .default, theta: Double) {
        self.kind = kind
        self.theta = theta
    }

    /// Reads `rope_parameters` (transformers 5) or `rope_theta` + `rope_scaling` (transformers 4).
    /// When `rope_parameters` holds one object per layer type (Gemma 3), the one of `layerType`.
    init(reader: ConfigReader, layerType: String = "full_attention") throws {
        var field: String
        let parameters: [String: Any]?
        if reader.has("rope_parameters") {
            field = "rope_parameters"
            guard var dictionary = reader.dictionary("rope_parameters") else {
                throw ModelError.invalidConfig(file: reader.file, field: field, problem: "must be an object")
            }
            if dictionary.values.contains(where: { $0 is [String: Any] }) {
                guard let perType = dictionary[layerType] as? [String: Any] else {
                    throw ModelError.invalidConfig(file: reader.file, field: "\(field).\(layerType)",
                                                   problem: "is missing or not an object; rope_parameters has one object per layer type")
                }
                field += ".\(layerType)"
                dictionary = perType
            }
            parameters = dictionary
        } else {
            field = "rope_scaling"
            if reader.has("rope_scaling"), reader.dictionary("rope_scaling") == nil {
                throw ModelError.invalidConfig(file: reader.file, field: field, problem: "must be an object or null")
            }
            parameters = reader.dictionary("rope_scaling")
        }
        let inner = ConfigReader(file: reader.file, object: parameters ?? [:])
        let theta = inner.has("rope_theta") ? try inner.double("rope_theta") : try reader.double("rope_theta", default: 10000)
        let name = (parameters?["rope_type"] ?? parameters?["type"]) as? String ?? "default"
        guard let kind = Kind(rawValue: name) else {
            throw ModelError.invalidConfig(
                file: reader.file, field: "\(field).rope_type",
                problem: "is '\(name)'; Fledge supports \(Kind.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", "))")
        }
        self.init(kind: kind, theta: theta)
        func required(_ key: String) throws -> Double {
            guard inner.has(key) else {
                throw ModelError.invalidConfig(file: reader.file, field: "\(field).\(key)", problem: "is missing; rope type '\(name)' needs it")
            }
            return try inner.double(key)
        }
        switch kind {
        case .default: break
        case .linear, .dynamic: factor = try required("factor")
        case .llama3:
            factor = try required("factor")
            lowFrequencyFactor = try required("low_freq_factor")
            highFrequencyFactor = try required("high_freq_factor")
            let key = "original_max_position_embeddings"
            _ = try required(key)
            originalMaxPositions = try inner.int(key)
            guard originalMaxPositions > 0 else {
                throw ModelError.invalidConfig(file: reader.file, field: "\(field).\(key)", problem: "must be positive, got \(originalMaxPositions)")
            }
        }
        if let partial = parameters?["partial_rotary_factor"] as? NSNumber, partial.doubleValue != 1 {
            throw ModelError.invalidConfig(file: reader.file, field: "\(field).partial_rotary_factor",
                                           problem: "is \(partial); Fledge supports only 1 (the whole head rotated)")
        }
    }

    /// `1 / base^(2i/dim)` in float32: `base ** (arange(0, dim, 2).float() / dim)` as torch computes it.
    static func defaultFrequencies(base: Double, dim: Int) -> [Float] {
        (0..<dim / 2).map { 1 / Foundation.powf(Float(base), Float(2 * $0) / Float(dim)) }
    }

    /// The table for sequences whose largest position is `sequenceLength − 1`. Only the dynamic
    /// type depends on the length (NTK scaling grows the base past `maxPositions`).
    public func table(headDim dim: Int, maxPositions: Int, sequenceLength: Int? = nil) -> RotaryTable {
        switch kind {
        case .default:
            return RotaryTable(inverseFrequencies: Self.defaultFrequencies(base: theta, dim: dim))
        case .linear:
            return RotaryTable(inverseFrequencies: Self.defaultFrequencies(base: theta, dim: dim).map { $0 / Float(factor) })
        case .dynamic:
            let length = max(sequenceLength ?? maxPositions, maxPositions)
            let base = theta * Foundation.pow(factor * Double(length) / Double(maxPositions) - (factor - 1),
                                              Double(dim) / Double(dim - 2))
            return RotaryTable(inverseFrequencies: Self.defaultFrequencies(base: base, dim: dim))
        case .llama3:
            let factor = Float(self.factor), low = Float(lowFrequencyFactor), high = Float(highFrequencyFactor)
            let old = Float(originalMaxPositions)
            let lowWavelength = old / low, highWavelength = old / high
            let frequencies = Self.defaultFrequencies(base: theta, dim: dim).map { frequency -> Float in
                let wavelength = 2 * Float.pi / frequency
                if wavelength > lowWavelength { return frequency / factor }
                if wavelength < highWavelength { return frequency }
                let smooth = (old / wavelength - low) / (high - low)
                return (1 - smooth) * frequency / factor + smooth * frequency
            }
            return RotaryTable(inverseFrequencies: frequencies)
        }
    }
}

/// The rotary table for each forward pass. Dynamic NTK scaling is stateful in transformers
/// (`dynamic_rope_update`): the table grows with the longest sequence seen and returns to the
/// original one for short sequences; a `RotaryState` per generation (or per scoring call)
/// reproduces that.
public final class RotaryState: @unchecked Sendable {
    let scaling: RopeScaling
    let headDim: Int
    let maxPositions: Int
    private var cachedLength: Int
    private var table: RotaryTable

    init(scaling: RopeScaling, headDim: Int, maxPositions: Int) {
        self.scaling = scaling
        self.headDim = headDim
        self.maxPositions = maxPositions
        cachedLength = maxPositions
        table = scaling.table(headDim: headDim, maxPositions: maxPositions)
    }

    /// The table for a forward pass whose largest position id is `maxPosition`.
    func table(maxPosition: Int) -> RotaryTable {
        guard scaling.kind == .dynamic else { return table }
        let length = maxPosition + 1
        if length > cachedLength {
            table = scaling.table(headDim: headDim, maxPositions: maxPositions, sequenceLength: length)
            cachedLength = length
        }
        if length < maxPositions && cachedLength > maxPositions {
            table = scaling.table(headDim: headDim, maxPositions: maxPositions)
            cachedLength = maxPositions
        }
        return table
    }
}
