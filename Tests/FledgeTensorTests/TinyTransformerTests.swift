import XCTest
@testable import FledgeTensor

/// A two-layer Llama-style decoder built from the engine's ops (embedding, RMSNorm, GQA
/// attention with RoPE and left padding, SwiGLU MLP, selective log-softmax loss): its loss
/// and the gradient of every parameter match PyTorch's (fixture `tiny_transformer.safetensors`).
final class TinyTransformerTests: XCTestCase {
    private let (heads, kvHeads, headDim, eps) = (4, 2, 6, Float(1e-6))

    private func linear(_ x: Tensor, _ weight: Tensor) -> Tensor { x.matmul(weight.transposed()) }

    private func loss(_ p: [String: Tensor], ids: [Int], mask: [Float], positions: [Int], targets: [Int], lossMask: Tensor,
                      batch: Int, seq: Int) -> (loss: Tensor, hidden: Tensor) {
        let table = RotaryTable(headDim: headDim, theta: 10_000)
        var x = p["embed"]!.indexSelect(ids, indexShape: [batch, seq])
        for layer in 0..<2 {
            let w = { (name: String) in p["layers.\(layer).\(name)"]! }
            let h = Tensor.rmsNorm(x, weight: w("input_norm"), eps: eps)
            let q = Tensor.rotaryEmbedding(linear(h, w("q_proj")).reshaped([batch, seq, heads, headDim]), positions: positions, table: table)
            let k = Tensor.rotaryEmbedding(linear(h, w("k_proj")).reshaped([batch, seq, kvHeads, headDim]), positions: positions, table: table)
            let v = linear(h, w("v_proj")).reshaped([batch, seq, kvHeads, headDim])
            let attention = Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: AttentionMask(causal: true, keyPadding: mask))
            x = x + linear(attention.reshaped([batch, seq, heads * headDim]), w("o_proj"))
            let h2 = Tensor.rmsNorm(x, weight: w("post_norm"), eps: eps)
            x = x + linear(Tensor.swiGLU(gate: linear(h2, w("gate_proj")), up: linear(h2, w("up_proj"))), w("down_proj"))
        }
        let hidden = Tensor.rmsNorm(x, weight: p["final_norm"]!, eps: eps)
        let rows = hidden.slice(axis: 1, 0..<seq - 1).reshaped([-1, hidden.shape[2]])
        let logProbs = Tensor.selectiveLogSoftmax(hidden: rows, weight: p["lm_head"]!, targets: targets).logProbs
        return (-(logProbs * lossMask).sum() / lossMask.sum(), hidden)
    }

    func testLossAndEveryParameterGradientMatchPyTorch() throws {
        let file = try Fixtures.open("tiny_transformer.safetensors")
        let parameterNames = file.names.filter { !$0.hasPrefix("grad.") && file.names.contains("grad.\($0)") }
        XCTAssertEqual(parameterNames.count, 2 * 9 + 3, "every parameter has a reference gradient")
        var parameters: [String: Tensor] = [:]
        for name in parameterNames {
            let tensor = try file.tensor(name)
            tensor.requiresGrad = true
            parameters[name] = tensor
        }
        let ids = try file.integers("input_ids")
        let (batch, seq) = (2, 7)
        let (loss, hidden) = loss(
            parameters, ids: ids, mask: try file.tensor("attention_mask").toArray(),
            positions: try file.integers("position_ids"), targets: try file.integers("targets"),
            lossMask: try file.tensor("loss_mask"), batch: batch, seq: seq)
        print("tiny transformer vs PyTorch:")
        assertClose(hidden, DTensor(try file.tensor("final_hidden")), tolerance: 1e-4, "final hidden states")
        assertClose(loss.reshaped([1]), DTensor(try file.tensor("loss")), tolerance: 1e-5, "loss")
        loss.backward()
        for name in parameterNames.sorted() {
            guard let grad = parameters[name]!.grad else { XCTFail("no gradient for \(name)"); continue }
            assertClose(grad, DTensor(try file.tensor("grad.\(name)")), tolerance: 1e-4, "grad \(name)")
        }
    }
}
