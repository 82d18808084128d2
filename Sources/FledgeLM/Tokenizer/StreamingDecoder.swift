/// Decodes ids one at a time and hands out only text that is complete: no half UTF-8 characters
/// and nothing a later token could still change. Mirrors `tokenizers`' `DecodeStream`.
public struct StreamingDecoder {
    private let tokenizer: Tokenizer
    private let skipSpecialTokens: Bool
    private var ids: [Int] = []
    private var prefix = ""
    private var prefixIndex = 0

    /// A decoder for ids of `tokenizer`.
    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Adds one id; returns the new text it completes, or `nil` when none is complete yet.
    public mutating func step(_ id: Int) -> String? {
        if prefix.isEmpty && !ids.isEmpty {
            let decoded = tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens)
            if decoded.unicodeScalars.last != "\u{FFFD}" {
                prefix = decoded
                prefixIndex = ids.count
            }
        }
        ids.append(id)
        let text = tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens)
        guard text.utf8.count > prefix.utf8.count, text.unicodeScalars.last != "\u{FFFD}", text.utf8.starts(with: prefix.utf8) else { return nil }
        let newText = String(decoding: text.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
        ids.removeFirst(prefixIndex)
        prefixIndex = ids.count
        prefix = tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens)
        return newText
    }
}
