import ArgumentParser
import Foundation

/// Text in and out of the model commands. Tokenizers are not part of this build yet, so the
/// text forms report that and ask for token ids.
enum TextSupport {
    static func encode(_ text: String, directory: URL) throws -> [Int] {
        throw ValidationError("text input needs a tokenizer, which this build does not have yet; pass token ids (--ids)")
    }
}
