import XCTest
@testable import FledgeTensor

/// The selective log-softmax never holds more than one chunk of logits: its peak extra
/// memory (forward and backward, counted by `MemoryStats`) stays near the chunk size while
/// the vocabulary grows 16-fold up to the chunk size, whereas full `[N, V]` logits would grow
/// with it. (A chunk holds at least one row, so for V above the chunk the bound is one row.)
final class SelectiveLogSoftmaxMemoryTests: XCTestCase {
    private func peakExtraBytes(rows: Int, vocab: Int, width: Int, chunkElements: Int) -> (forward: Int, backward: Int) {
        var generator = SeededGenerator(seed: 7)
        let hidden = Tensor.uniform([rows, width], in: -1..<1, using: &generator)
        let weight = Tensor.uniform([vocab, width], in: -1..<1, using: &generator)
        hidden.requiresGrad = true
        let targets = (0..<rows).map { ($0 * 7919) % vocab }

        MemoryStats.resetPeak()
        let base = MemoryStats.liveBytes
        let result = Tensor.selectiveLogSoftmax(hidden: hidden, weight: weight, targets: targets, withEntropy: true,
                                                chunkElements: chunkElements)
        let forwardPeak = MemoryStats.peakBytes - base
        let loss = result.logProbs.sum() + result.entropy!.sum()
        MemoryStats.resetPeak()
        let beforeBackward = MemoryStats.liveBytes
        loss.backward()
        let backwardPeak = MemoryStats.peakBytes - beforeBackward
        return (forwardPeak, backwardPeak)
    }

    func testPeakMemoryStaysBoundedByTheChunkAsTheVocabularyGrows() {
        let rows = 64, width = 16, chunk = 1 << 14
        let chunkBytes = chunk * MemoryLayout<Float>.size
        print("selective log-softmax peak extra memory (rows \(rows), chunk \(chunk) floats = \(chunkBytes / 1024) KiB):")
        for vocab in [1_024, 4_096, 16_384] {
            let peak = peakExtraBytes(rows: rows, vocab: vocab, width: width, chunkElements: chunk)
            let fullLogits = rows * vocab * MemoryLayout<Float>.size
            print("  V = \(vocab): forward \(peak.forward / 1024) KiB, backward \(peak.backward / 1024) KiB; full logits would be \(fullLogits / 1024) KiB")
            // One chunk of logits, plus O(rows) outputs and O(rows · width) for the hidden gradient.
            let allowance = chunkBytes + 16 * rows * MemoryLayout<Float>.size + 2 * rows * width * MemoryLayout<Float>.size
            XCTAssertLessThanOrEqual(peak.forward, allowance, "forward at V = \(vocab)")
            XCTAssertLessThanOrEqual(peak.backward, allowance, "backward at V = \(vocab)")
        }
    }
}
