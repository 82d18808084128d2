/// An entry of tokenizer.json's `added_tokens`: a string matched in the text before the model runs.
public struct AddedToken: Sendable, Equatable {
    /// The token's id.
    public let id: Int
    /// The exact text of the token.
    public let content: String
    /// Whether it is a special token (dropped by `skipSpecialTokens` on decode).
    public let special: Bool
    /// Matches only when not inside a word.
    let singleWord: Bool
    /// Swallows whitespace on its left.
    let leftStrip: Bool
    /// Swallows whitespace on its right.
    let rightStrip: Bool
    /// Matched in the normalized text rather than the raw text.
    let normalized: Bool

    init(_ field: JSONField) throws(TokenizerError) {
        id = try field["id"].int()
        guard Tokenizer.validIDs.contains(id) else {
            throw field["id"].problem("is \(id); ids must be at least 0 and below \(Tokenizer.validIDs.upperBound)")
        }
        content = try field["content"].string()
        guard !content.isEmpty else { throw field["content"].problem("must not be empty") }
        special = try field["special"].bool(default: false)
        singleWord = try field["single_word"].bool(default: false)
        leftStrip = try field["lstrip"].bool(default: false)
        rightStrip = try field["rstrip"].bool(default: false)
        normalized = try field["normalized"].bool(default: !special)
    }
}
