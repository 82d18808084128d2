import XCTest
@testable import FledgeLM

final class StreamingDecoderTests: XCTestCase {
    /// Streaming the ids of every corpus line one by one yields complete UTF-8 pieces that add up to the full decode.
    func testPiecesAreCompleteAndAddUpToTheDecode() throws {
        for kind in ["llama3", "legacy", "metaspace"] {
            let directory = Fixtures.tokenizerDirectory(kind)
            let tokenizer = try Tokenizer(directory: directory)
            for testCase in try Fixtures.jsonLines(URL(fileURLWithPath: directory).appendingPathComponent("expected.jsonl")) {
                let ids = try XCTUnwrap(testCase["ids"]?.intArray)
                var stream = StreamingDecoder(tokenizer: tokenizer)
                var text = ""
                for id in ids {
                    if let piece = stream.step(id) {
                        XCTAssertNotEqual(piece.unicodeScalars.last, "\u{FFFD}")
                        text += piece
                    }
                }
                let full = tokenizer.decode(ids)
                if full.unicodeScalars.last != "\u{FFFD}" {
                    XCTAssertEqual(text, full, "\(kind): \(ids)")
                }
            }
        }
    }

    func testSplitMultibyteCharacterWaitsForItsLastByte() throws {
        let tokenizer = try Tokenizer(directory: Fixtures.tokenizerDirectory("legacy"))
        let ids = tokenizer.encode("東")
        var stream = StreamingDecoder(tokenizer: tokenizer)
        let pieces = ids.map { stream.step($0) }
        XCTAssertEqual(pieces.compactMap { $0 }.joined(), tokenizer.decode(ids))
        XCTAssertTrue(pieces.dropLast().allSatisfy { $0 == nil || !$0!.contains("\u{FFFD}") })
    }
}
