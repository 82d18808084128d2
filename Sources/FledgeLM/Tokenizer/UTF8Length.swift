extension UInt8 {
    /// The length of the UTF-8 sequence this (valid, leading) byte starts.
    var utf8SequenceLength: Int {
        self < 0x80 ? 1 : self >= 0xF0 ? 4 : self >= 0xE0 ? 3 : 2
    }
}
