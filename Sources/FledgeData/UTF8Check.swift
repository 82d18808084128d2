/// Where bytes that should be UTF-8 text stop being it, for errors that name the byte: text that is
/// not UTF-8 is refused, never silently replaced (the ids of replaced text would belong to other text).
public enum UTF8Check {
    /// The offset and value of the first byte that does not begin or continue a valid UTF-8
    /// sequence; nil when all of `bytes` is UTF-8.
    public static func firstInvalidByte<Bytes: Collection<UInt8>>(in bytes: Bytes) -> (offset: Int, byte: UInt8)? {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return (offset, bytes[bytes.index(bytes.startIndex, offsetBy: offset)])
            }
        }
    }

    /// "byte N: not UTF-8 text (byte 0xFF); save the file as UTF-8", N counted from 1.
    public static func message(offset: Int, byte: UInt8) -> String {
        "byte \(offset + 1): not UTF-8 text (byte 0x\(String(byte, radix: 16, uppercase: true))); save the file as UTF-8"
    }
}
