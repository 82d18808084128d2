/// GPT-2's reversible map between the 256 byte values and printable Unicode characters, used by
/// the ByteLevel pre-tokenizer (bytes to characters) and decoder (characters to bytes).
enum ByteLevelAlphabet {
    /// The character that stands for each byte.
    static let characters: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte each alphabet character stands for, indexed by the character's code point (-1: not in the alphabet).
    static let bytes: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for (byte, scalar) in characters.enumerated() { table[Int(scalar.value)] = Int16(byte) }
        return table
    }()

    /// The raw bytes a token written in the alphabet stands for, or `nil` if it has other characters.
    static func decode(_ token: String) -> [UInt8]? {
        var result: [UInt8] = []
        result.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            guard scalar.value < bytes.count, bytes[Int(scalar.value)] >= 0 else { return nil }
            result.append(UInt8(bytes[Int(scalar.value)]))
        }
        return result
    }
}
