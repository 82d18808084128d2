/// The optimizer steps since the last log, averaged into one record as the HF Trainer and TRL do:
/// the logged `loss` is the mean step loss over the window, each metric the mean of its
/// micro-batch values, `grad_norm` and `learning_rate` those of the last step.
struct LogWindow {
    private var lossSum = 0.0
    private var steps = 0
    private var tokens = 0
    private var metricNames: [String] = []
    private var metricSums: [String: (sum: Double, count: Int)] = [:]

    /// Adds one step's loss (the sum of its scaled micro-batch losses) and the input tokens it used.
    mutating func addStep(loss: Double, tokens: Int) {
        lossSum += loss
        steps += 1
        self.tokens += tokens
    }

    /// Adds one micro-batch's metrics.
    mutating func addMetrics(_ metrics: [String: Double]) {
        for name in metrics.keys.sorted() {
            if metricSums[name] == nil { metricNames.append(name) }
            let current = metricSums[name] ?? (0, 0)
            metricSums[name] = (current.sum + metrics[name]!, current.count + 1)
        }
    }

    /// Replaces each metric by the mean over the processes of their window means (a metric some
    /// process lacks is averaged over those that have it). Every process must call it at the same log.
    mutating func averageMetrics(over communicator: any Communicator, step: Int) throws {
        guard communicator.size > 1 else { return }
        let purpose = "the metrics of step \(step)"
        let names = try communicator.allGather(metricNames.joined(separator: "\n"), purpose: purpose)
            .map { $0.split(separator: "\n").map(String.init) }
        let means = try communicator.allGather(metricNames.map { metricSums[$0]!.sum / Double(metricSums[$0]!.count) },
                                               purpose: purpose)
        metricNames = []
        metricSums = [:]
        for (processNames, processMeans) in zip(names, means) {
            for (name, mean) in zip(processNames, processMeans) {
                if metricSums[name] == nil { metricNames.append(name) }
                let current = metricSums[name] ?? (0, 0)
                metricSums[name] = (current.sum + mean, current.count + 1)
            }
        }
    }

    /// Whether any step was added since the last record.
    var isEmpty: Bool { steps == 0 }

    /// The record of the window, which then starts afresh. `seconds` is the wall time the window's
    /// steps took.
    mutating func record(step: Int, epoch: Double, learningRate: Double, gradNorm: Double, seconds: Double,
                         elapsed: Double, totalTokens: Int, peakMemoryMB: Double) -> MetricsRecord {
        var record = MetricsRecord(step: step, values: [
            ("epoch", epoch), ("loss", lossSum / Double(max(steps, 1))), ("learning_rate", learningRate),
            ("grad_norm", gradNorm), ("tokens_per_second", seconds > 0 ? Double(tokens) / seconds : 0),
            ("peak_memory_mb", peakMemoryMB), ("elapsed_seconds", elapsed), ("num_tokens", Double(totalTokens)),
        ])
        for name in metricNames {
            let (sum, count) = metricSums[name]!
            record.set(name, sum / Double(count))
        }
        self = LogWindow()
        return record
    }
}
