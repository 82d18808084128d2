extension PretrainedModel {
    /// NEFTune noise added to the input embeddings of training passes (``NEFTuneNoise``), or nil for none.
    public var neftuneNoise: NEFTuneNoise? {
        get { decoder.neftuneNoise }
        set { decoder.neftuneNoise = newValue }
    }
}
