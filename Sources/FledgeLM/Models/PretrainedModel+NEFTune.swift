extension PretrainedModel {
    /// NEFTune noise added to the input embeddings of training passes (``NEFTuneNoise``), or nil for none.
    public var neftuneNoise: NEFTuneNoise? {
        get { decoder.neftuneNoise }
        set { decoder.neftuneNoise = newValue }
    }

    /// Records every pass NEFTune noises on this model when set (nil: none recorded).
    public var neftunePassLog: NEFTunePassLog? {
        get { decoder.neftunePassLog }
        set { decoder.neftunePassLog = newValue }
    }

    /// The result of `body` with `noise` on the input embeddings (nil: none), removed afterwards.
    public func withNEFTuneNoise<Result>(_ noise: NEFTuneNoise?, _ body: () throws -> Result) rethrows -> Result {
        neftuneNoise = noise
        defer { neftuneNoise = nil }
        return try body()
    }
}
