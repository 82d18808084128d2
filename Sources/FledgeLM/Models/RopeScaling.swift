import Foundation
import FledgeTensor

/// The rotary position embedding a config asks for, and the frequency table of each type,
/// computed in float32 as transformers' `modeling_rope_utils` does.
public struct RopeScaling: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case `default`, linear, dynamic, llama3, longrope
    }

    public var kind: Kind
    public var theta: Double
    public var factor: Double = 1
    public var lowFrequencyFactor: Double = 1
    public var highFrequencyFactor: Double = 4
    public var originalMaxPositions: Int = 8192
    /// `partial_rotary_factor`: the fraction of each head's dims that rotate (the first ones).
    public var partialRotaryFactor: Double = 1
    /// LongRoPE's `short_factor` and `long_factor`: one divisor per rotated pair, for passes whose
    /// largest position is below `originalMaxPositions` and for the others.
    public var shortFactor: [Double] = []
    public var longFactor: [Double] = []
    /// LongRoPE's `attention_factor`, multiplying cos and sin in both regimes.
    public var attentionFactor: Double = 1

    public init(kind: Kind = .default, theta: Double) {
        self.kind = kind
        self.theta = theta
    }

    /// Reads `rope_parameters` (transformers 5) or `rope_theta` + `rope_scaling` (transformers 4).
    /// When `rope_parameters` holds one object per layer type (Gemma 3), the one of `layerType`.
    init(reader: ConfigReader, layerType: String = "full_attention") throws {
        var field: String
        let parameters: JSONObject?
        if reader.has("rope_parameters") {
            field = "rope_parameters"
            guard var dictionary = reader.dictionary("rope_parameters") else {
                throw ModelError.invalidConfig(file: reader.file, field: field, problem: "must be an object")
            }
            if Self.isPerLayerType(dictionary) {
                guard case .object(let perType) = dictionary[layerType] else {
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
        let inner = ConfigReader(file: reader.file, object: parameters ?? JSONObject())
        let theta = inner.has("rope_theta") ? try inner.double("rope_theta") : try reader.double("rope_theta", default: 10000)
        let name = inner.string("rope_type") ?? inner.string("type") ?? "default"
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
        case .longrope:
            try readLongRope(inner, reader, field: field)
        }
        let partialField = inner.has("partial_rotary_factor") ? "\(field).partial_rotary_factor" : "partial_rotary_factor"
        partialRotaryFactor = inner.has("partial_rotary_factor")
            ? try inner.double("partial_rotary_factor") : try reader.double("partial_rotary_factor", default: 1)
        guard partialRotaryFactor > 0, partialRotaryFactor <= 1 else {
            throw ModelError.invalidConfig(file: reader.file, field: partialField,
                                           problem: "is \(partialRotaryFactor); it must be above 0 and at most 1")
        }
    }

    /// Whether a `rope_parameters` object holds one object per layer type (Gemma 3's
    /// `{"full_attention": {…}, "sliding_attention": {…}}`) rather than one rope's parameters.
    static func isPerLayerType(_ parameters: JSONObject) -> Bool {
        parameters.orderedValues.contains { if case .object = $0 { true } else { false } }
    }

    /// LongRoPE (transformers' `_compute_longrope_parameters`): `short_factor` and `long_factor`,
    /// `original_max_position_embeddings` (config.json's top-level field first, as transformers
    /// prefers it), and `attention_factor`, by default √(1 + ln f / ln original) with f = `factor`
    /// or max_position_embeddings / original (1 when f ≤ 1).
    private mutating func readLongRope(_ inner: ConfigReader, _ reader: ConfigReader, field: String) throws {
        func factors(_ key: String) throws -> [Double] {
            guard let list = inner.numbers(key), !list.isEmpty else {
                throw ModelError.invalidConfig(file: reader.file, field: "\(field).\(key)",
                                               problem: "must be a non-empty list of numbers; rope type 'longrope' needs it")
            }
            return list
        }
        shortFactor = try factors("short_factor")
        longFactor = try factors("long_factor")
        let key = "original_max_position_embeddings"
        let originalField = reader.has(key) ? key : "\(field).\(key)"
        guard let original = try reader.optionalInt(key) ?? inner.optionalInt(key) else {
            throw ModelError.invalidConfig(file: reader.file, field: originalField,
                                           problem: "is missing; rope type 'longrope' needs it")
        }
        guard original > 1 else {
            throw ModelError.invalidConfig(file: reader.file, field: originalField, problem: "must be above 1, got \(original)")
        }
        originalMaxPositions = original
        let scale = inner.has("factor")
            ? try inner.double("factor")
            : Double(try reader.int("max_position_embeddings", default: 2048)) / Double(original)
        attentionFactor = inner.has("attention_factor") ? try inner.double("attention_factor")
            : scale <= 1 ? 1 : (1 + Foundation.log(scale) / Foundation.log(Double(original))).squareRoot()
    }

    /// How many leading dims of a `headDim`-wide head rotate: `int(head_dim · partial_rotary_factor)`.
    public func rotaryDimensions(headDim: Int) -> Int { Int(Double(headDim) * partialRotaryFactor) }

    /// Whether LongRoPE uses its long factors for a pass whose largest position is `maxPosition`
    /// (transformers picks per forward call: largest position id + 1 > original_max_position_embeddings).
    func usesLongFactors(maxPosition: Int) -> Bool { kind == .longrope && maxPosition + 1 > originalMaxPositions }

    /// `1 / base^(2i/dim)` in float32: `base ** (arange(0, dim, 2).float() / dim)` as torch computes it.
    static func defaultFrequencies(base: Double, dim: Int) -> [Float] {
        (0..<dim / 2).map { 1 / Foundation.powf(Float(base), Float(2 * $0) / Float(dim)) }
    }

    /// The table for sequences whose largest position is `sequenceLength − 1`. Only the dynamic
    /// type (NTK scaling grows the base past `maxPositions`) and LongRoPE (long factors past
    /// `originalMaxPositions`) depend on the length. It covers the rotated dims of a `headDim`-wide head.
    public func table(headDim: Int, maxPositions: Int, sequenceLength: Int? = nil) -> RotaryTable {
        let dim = rotaryDimensions(headDim: headDim)
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
        case .longrope:
            let long = usesLongFactors(maxPosition: (sequenceLength ?? 0) - 1)
            let factors = (long ? longFactor : shortFactor).map(Float.init)
            let frequencies = (0..<dim / 2).map { 1 / (factors[$0] * Foundation.powf(Float(theta), Float(2 * $0) / Float(dim))) }
            return RotaryTable(inverseFrequencies: frequencies, attentionScaling: Float(attentionFactor))
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
        if scaling.kind == .longrope {
            return scaling.usesLongFactors(maxPosition: maxPosition)
                ? scaling.table(headDim: headDim, maxPositions: maxPositions, sequenceLength: maxPosition + 1) : table
        }
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
