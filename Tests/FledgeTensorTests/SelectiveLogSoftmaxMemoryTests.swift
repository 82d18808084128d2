import XCTest
@testable import FledgeTensor

/// The selective log-softmax never holds more than one chunk of logits: its peak extra
/// memory (forward and backward, counted by `MemoryStats`) stays within the chunk plus the
/// GEMM's fixed workspace while the vocabulary grows 16-fold, whereas full `[N, V]` logits
/// grow with it. (A chunk holds at least one row, so for V above the chunk the bound is one row.)
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
        let rows = 256, width = 16, chunk = 1 << 16
        let chunkBytes = chunk * MemoryLayout<Float>.size
        print("selective log-softmax peak extra memory (rows \(rows), chunk \(chunk) floats = \(chunkBytes / 1024) KiB):")
        print("  (GEMM workspace bound: \(GEMM.maxWorkspaceBytes / 1024) KiB)")
        for vocab in [4_096, 16_384, 65_536] {
            let peak = peakExtraBytes(rows: rows, vocab: vocab, width: width, chunkElements: chunk)
            let fullLogits = rows * vocab * MemoryLayout<Float>.size
            print("  V = \(vocab): forward \(peak.forward / 1024) KiB, backward \(peak.backward / 1024) KiB; full logits would be \(fullLogits / 1024) KiB")
            // One chunk of logits and the GEMM workspace, plus O(rows) outputs and O(rows · width)
            // for the hidden gradient: nothing that grows with V.
            let allowance = chunkBytes + GEMM.maxWorkspaceBytes + 16 * rows * MemoryLayout<Float>.size
                + 2 * rows * width * MemoryLayout<Float>.size
            XCTAssertLessThanOrEqual(peak.forward, allowance, "forward at V = \(vocab)")
            XCTAssertLessThanOrEqual(peak.backward, allowance, "backward at V = \(vocab)")
        }
    }
}
