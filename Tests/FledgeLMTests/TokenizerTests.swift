import Foundation
import XCTest
@testable import FledgeLM

/// Every line of the reference corpus must give the ids and decodes that `tokenizers` gives.
final class TokenizerTests: XCTestCase {
    private func checkCorpus(_ kind: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let directory = Fixtures.tokenizerDirectory(kind)
        let tokenizer = try Tokenizer(directory: directory)
        let cases = try Fixtures.jsonLines(URL(fileURLWithPath: directory).appendingPathComponent("expected.jsonl"))
        XCTAssertGreaterThanOrEqual(cases.count, 400, file: file, line: line)
        var failures = 0
        for (index, testCase) in cases.enumerated() {
            let text = try XCTUnwrap(testCase["text"]?.stringValue)
            let expected = try XCTUnwrap(testCase["ids"]?.intArray)
            let ids = tokenizer.encode(text)
            let withSpecial = tokenizer.encode(text, addSpecialTokens: true)
            let decoded = tokenizer.decode(expected)
            let skipping = tokenizer.decode(expected, skipSpecialTokens: true)
            let problems = [
                ids == expected ? nil : "ids \(ids) != \(expected)",
                withSpecial == testCase["ids_with_special_tokens"]?.intArray ? nil : "with special tokens \(withSpecial)",
                decoded == testCase["decoded"]?.stringValue ? nil : "decoded \(decoded.debugDescription)",
                skipping == testCase["decoded_skipping_special"]?.stringValue ? nil : "decoded skipping special \(skipping.debugDescription)",
            ].compactMap { $0 }
            if !problems.isEmpty {
                failures += 1
                if failures <= 5 { XCTFail("\(kind) line \(index) \(text.debugDescription): \(problems.joined(separator: "; "))", file: file, line: line) }
            }
        }
        XCTAssertEqual(failures, 0, "\(kind): \(failures) of \(cases.count) lines differ", file: file, line: line)
    }

    func testGPT2ByteLevel() throws { try checkCorpus("gpt2") }
    func testQwen2ByteLevel() throws { try checkCorpus("qwen2") }
    func testLlama3ByteLevel() throws { try checkCorpus("llama3") }
    func testOtherRegexesThroughTheRegexFallback() throws { try checkCorpus("regex") }
    func testSentencePieceByteFallback() throws { try checkCorpus("legacy") }
    func testMetaspaceWithUnknownToken() throws { try checkCorpus("metaspace") }
}
