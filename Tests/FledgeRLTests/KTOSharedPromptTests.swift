import XCTest
import FledgeLM
@testable import FledgeRL

/// KTO's reference pass runs each prompt once for both of its continuations, the row's completion and
/// its mismatched (KL) completion (``KTO/referenceSums(_:reference:)``, shared prefixes): each
/// sequence's log-probability equals scoring every sequence whole within 1e-5 relative — with the
/// adapters off and on, prompts of different lengths, completions cut at `max_length`, chat rows, and
/// a row whose mismatched sequence does not begin with its own prompt (which then runs unshared).
final class KTOSharedPromptTests: XCTestCase {
    func testSharedPromptLogProbsMatchScoringEverySequenceWhole() throws {
        let model = try LanguageModel(directory: KTOReferenceTests.modelDirectory)
        try model.loadAdapter(from: KTOReferenceTests.fixtures.appendingPathComponent("lora_adapter"))
        let expected = try KTOReferenceTests.expected()
        var rows: [UnpairedSequence] = []
        for name in ["truncated", "messages", "strings"] {
            let fields = try XCTUnwrap((expected[name] as? [String: Any])?["config"] as? [String: Any])
            rows += try KTOReferenceTests.rows(name, maxLength: fields["max_length"] as? Int, mismatchedBatchSize: 3).rows
        }
        // A row whose mismatched sequence is another row's: its prompt differs, so nothing is shared for it.
        var foreign = rows[0]
        foreign.mismatched = rows[1].sequence
        rows.append(foreign)

        let prompts = rows.map { Array($0.sequence.ids[..<$0.sequence.scoredFrom]) }
        let mismatchedPrompts = try rows.map { row in
            let mismatched = try XCTUnwrap(row.mismatched)
            return Array(mismatched.ids[..<mismatched.scoredFrom])
        }
        XCTAssertGreaterThan(Set(prompts.map(\.count)).count, 1, "prompts of different lengths")
        XCTAssertEqual(zip(prompts, mismatchedPrompts).filter { $0 == $1 }.count, rows.count - 1,
                       "every row but the last shares its prompt with its mismatched sequence")
        XCTAssert(rows.contains { $0.sequence.ids.count == 10 }, "a sequence cut at max_length")

        let sequences = rows.map(\.sequence) + rows.compactMap(\.mismatched)
        for (label, reference) in [("adapters off", ReferencePolicy.adaptersDisabled(model)), ("adapters on", .frozen(model))] {
            let shared = KTO.referenceSums(rows, reference: reference)
            let whole = reference.score(sequences.map(\.ids), scoredFrom: sequences.map(\.scoredFrom), batchSize: 1).sums
            assertClose(shared.completions.map(Double.init), whole[..<rows.count].map(Double.init), "\(label): completions")
            assertClose(try XCTUnwrap(shared.mismatched).map(Double.init), whole[rows.count...].map(Double.init),
                        "\(label): mismatched completions")
        }
    }
}
