import FledgeLM
import FuzzSupport

/// Texts encoded with every tokenizer that loads: plain and accented text, whitespace runs,
/// special-token look-alikes, control characters and combining marks.
enum Texts {
    static let all = [
        "Hello, world! 123", "  two  spaces\tand\ttabs\n\nlines ", "naïve café — 日本語 🙂", "<s><|im_start|>user\n<eos></s>",
        "e\u{301}\u{0}\u{7F}\u{FFFD}", "",
    ]
}

/// A tokenizer.json: loaded, then used to encode and decode, as training and generation use it.
func fuzzTokenizer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    guard let tokenizer = try? Tokenizer(json: bytes, path: "tokenizer.json") else { return 0 }
    for text in Texts.all + [String(decoding: bytes.prefix(64), as: UTF8.self)] {
        for special in [false, true] {
            let ids = tokenizer.encode(text, addSpecialTokens: special)
            precondition(ids.allSatisfy { $0 >= 0 && $0 < tokenizer.vocabularySize }, "ids \(ids) outside the vocabulary")
            _ = tokenizer.decode(ids, skipSpecialTokens: special)
            _ = tokenizer.byteRanges(of: ids, spelling: text)
        }
    }
    _ = tokenizer.decode([-1, 0, 1, tokenizer.vocabularySize, Int.max])
    return 0
}

runFuzzer(fuzzTokenizer)
