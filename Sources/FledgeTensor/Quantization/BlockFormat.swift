/// A block-quantized weight format: values are stored in fixed-size blocks of bytes, and each
/// block decodes on its own to `valuesPerBlock` float32 values (llama.cpp's `Q8_0`, `Q4_0`,
/// `Q4_K`, … keep their scales inside the block).
///
/// One conforming type per format, in a file named after it (`Q8_0.swift`, `Q4_K.swift`). The
/// portable `dequantize` is the reference that tests compare with the reference library
/// (gguf-py, bitsandbytes) bit for bit, and that the vectorised kernels are checked against.
public protocol BlockFormat: Sendable {
    /// The format's name as users, configs and GGUF tools spell it (`"q8_0"`, `"q4_k"`).
    static var name: String { get }
    /// How many weights one block holds.
    static var valuesPerBlock: Int { get }
    /// How many bytes one block takes.
    static var bytesPerBlock: Int { get }
    /// Decodes whole blocks: `blocks.count` is a multiple of `bytesPerBlock`, and `output.count`
    /// is `blocks.count / bytesPerBlock * valuesPerBlock`.
    static func dequantize(_ blocks: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>)
}
