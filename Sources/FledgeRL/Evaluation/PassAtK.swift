/// pass@k by the unbiased estimator of Chen et al. 2021 ("Evaluating Large Language Models Trained
/// on Code", eq. 1 and its numerically stable form in figure 3): with `n` samples of a problem of
/// which `c` are correct, the chance that `k` of them drawn without replacement hold at least one
/// correct one is 1 − C(n−c, k) / C(n, k) = 1 − ∏_{i=n−c+1}^{n} (1 − k / i).
public enum PassAtK {
    /// The estimate for one problem; needs 1 ≤ k ≤ n and 0 ≤ c ≤ n.
    public static func estimate(samples n: Int, correct c: Int, k: Int) -> Double {
        precondition(k >= 1 && k <= n && c >= 0 && c <= n, "pass@k needs 1 ≤ k ≤ n and 0 ≤ c ≤ n, got n \(n), c \(c), k \(k)")
        guard n - c >= k else { return 1 }
        var missAll = 1.0
        for i in (n - c + 1)..<(n + 1) { missAll *= 1 - Double(k) / Double(i) }
        return 1 - missAll
    }

    /// The mean estimate over problems, each given by its count of correct samples out of `samples`.
    public static func mean(samples n: Int, correct: [Int], k: Int) -> Double {
        guard !correct.isEmpty else { return 0 }
        return correct.reduce(0) { $0 + estimate(samples: n, correct: $1, k: k) } / Double(correct.count)
    }

    /// The k reported for `n` samples per problem: the powers of two below `n`, then `n` (1, 2, 4, …, n).
    public static func reportedKs(samples n: Int) -> [Int] {
        var ks: [Int] = []
        var k = 1
        while k < n { ks.append(k); k *= 2 }
        return ks + [n]
    }
}
