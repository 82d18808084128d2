import Foundation

/// Llama 3's rope scaling (`rope_type` `llama3`) as llama.cpp stores it: the `rope_freqs` tensor,
/// one divisor of each rotated pair's frequency (convert_hf_to_gguf.py's
/// `LlamaModel.generate_extra_tensors`): 1 for wavelengths below `original / high_freq_factor`,
/// `factor` above `original / low_freq_factor`, `1 / ((1 − s) / factor + s)` between, with
/// `s = (original / wavelength − low) / (high − low)`.
enum GGUFLlama3Rope {
    static let tensorName = "rope_freqs.weight"

    /// The divisors of `rope` over the `dim` rotated dims, in float32 as the converter computes them.
    static func divisors(_ rope: RopeScaling, dim: Int) -> [Float] {
        let factor = Float(rope.factor), low = Float(rope.lowFrequencyFactor), high = Float(rope.highFrequencyFactor)
        let original = Float(rope.originalMaxPositions)
        return RopeScaling.defaultFrequencies(base: rope.theta, dim: dim).map { frequency in
            let wavelength = 2 * Float.pi / frequency
            if wavelength < original / high { return 1 }
            if wavelength > original / low { return factor }
            let smooth = (original / wavelength - low) / (high - low)
            return 1 / ((1 - smooth) / factor + smooth)
        }
    }

    /// The `rope_scaling` whose divisors are `divisors` (theta `theta`, `dim` rotated dims), nil when
    /// every divisor is 1. The divisors fix `factor` (the largest) and, through the pairs in the
    /// transition band, `s` as a line in the frequency; with `low_freq_factor` 1 (every Llama 3's) that
    /// line gives `high_freq_factor` and `original_max_position_embeddings`. The result must give the
    /// divisors back (relative error ≤ 1e-4); errors name the tensor.
    static func scaling(divisors: [Float], theta: Double, dim: Int, file: String) throws -> JSONValue? {
        func refuse(_ problem: String) -> ModelError {
            .invalidFile(path: file, problem: "has tensor '\(tensorName)' that \(problem); Fledge reads Llama 3 rope scaling from it")
        }
        guard divisors.count == dim / 2 else { throw refuse("has \(divisors.count) values for \(dim / 2) rotated pairs") }
        guard divisors.allSatisfy({ $0.isFinite && $0 >= 1 }) else { throw refuse("has a divisor below 1 or not finite") }
        let factor = Double(divisors.max() ?? 1)
        if factor <= 1 { return nil }
        let frequencies = RopeScaling.defaultFrequencies(base: theta, dim: dim).map(Double.init)
        let band = divisors.indices.filter { Double(divisors[$0]) > 1 + 1e-6 && Double(divisors[$0]) < factor * (1 - 1e-6) }
        guard let first = band.first, let last = band.last, first != last else {
            throw refuse("has \(band.count) divisor(s) strictly between 1 and its largest, \(factor); two are needed to recover the scaling")
        }
        let smooth = { (index: Int) in (1 / Double(divisors[index]) - 1 / factor) / (1 - 1 / factor) }
        let slope = (smooth(last) - smooth(first)) / (frequencies[last] - frequencies[first])
        let intercept = smooth(first) - slope * frequencies[first]
        guard intercept < 0, slope > 0 else { throw refuse("does not rise from the low to the high frequencies as Llama 3's does") }
        // s = (original·f/2π − low) / (high − low) with low = 1.
        let span = -1 / intercept
        var high = 1 + span
        if abs(high - high.rounded()) < 1e-3 { high = high.rounded() }
        let original = Int((2 * Double.pi * slope * span).rounded())
        var rope = RopeScaling(kind: .llama3, theta: theta)
        (rope.factor, rope.lowFrequencyFactor, rope.highFrequencyFactor, rope.originalMaxPositions) = (factor, 1, high, original)
        let worst = zip(Self.divisors(rope, dim: dim), divisors).map { abs(Double($0) - Double($1)) / Double($1) }.max() ?? 0
        guard worst <= 1e-4 else { throw refuse("is not Llama 3's scaling with low_freq_factor 1 (relative error \(worst))") }
        return .object(JSONObject([("rope_type", .string("llama3")), ("factor", .double(factor)), ("low_freq_factor", .double(1)),
                                   ("high_freq_factor", .double(high)), ("original_max_position_embeddings", .int(original))]))
    }
}
