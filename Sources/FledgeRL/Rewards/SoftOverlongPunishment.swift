/// DAPO's soft overlong punishment (TRL's `get_soft_overlong_punishment`): 0 up to
/// `maxLength − cache` tokens, then falling linearly to −1 at `maxLength`, and −1 beyond.
public struct SoftOverlongPunishment: RewardFunction {
    public let name: String
    /// L_max: the longest completion (usually `max_completion_length`).
    public let maxLength: Int
    /// L_cache: the length of the zone before L_max where the punishment grows (0: only −1 beyond L_max).
    public let cache: Int

    public init(maxLength: Int, cache: Int, name: String = "soft_overlong_punishment") {
        precondition(cache >= 0 && cache <= maxLength, "soft overlong punishment: cache \(cache) must be in 0...\(maxLength)")
        self.maxLength = maxLength
        self.cache = cache
        self.name = name
    }

    public func score(_ samples: [RewardSample]) -> [Double?] {
        samples.map { sample in
            let length = sample.completionIds.count
            if length <= maxLength - cache { return 0 }
            if length <= maxLength { return Double(maxLength - cache - length) / Double(cache) }
            return -1
        }
    }
}
