import XCTest
@testable import FledgePlot

final class ChartTests: XCTestCase {
    private func records(_ count: Int, _ values: (Int) -> [String: Double]) -> [MetricRecord] {
        (1...count).map { MetricRecord(values($0)) }
    }

    func testPanelsPutTheHeadlineMetricsFirstAndGroupVariants() throws {
        let log = records(12) { step in
            ["step": Double(step * 5), "epoch": Double(step) / 12, "tokens_per_second": 900, "grad_norm": 1, "learning_rate": 1e-5,
             "kl": 0.01, "loss": 1 / Double(step), "reward": Double(step), "completions/mean_length": 40,
             "completions/min_length": 10, "completions/max_length": 64, "rewards/chosen": 1, "rewards/rejected": -1, "zeta": 3]
        }
        let chart = try Chart(records: log, title: "run")
        XCTAssertEqual(chart.panels.map(\.title), ["reward", "rewards", "loss", "kl", "grad_norm", "learning_rate",
                                                   "completions/length", "tokens_per_second", "zeta"])
        XCTAssertEqual(chart.panels[1].series.map(\.label), ["chosen", "rejected"])
        XCTAssertEqual(chart.panels[6].series.map(\.metric), ["completions/mean_length", "completions/min_length", "completions/max_length"])
        XCTAssertEqual(chart.panels[0].series[0].points.map(\.x), (1...12).map { Double($0 * 5) }, "x is the logged step")
        XCTAssertEqual(chart.steps, 5...60)
    }

    /// One metric of a float32 and a bf16 run (`Scripts/bench/bf16_curves.py`) share a panel.
    func testFloat32AndBFloat16RunsOfAMetricShareAPanel() throws {
        let log = records(4) { ["step": Double($0), "loss/bf16": 1.1, "loss/fp32": 1, "reward/fp32": 0.5, "reward/bf16": 0.6] }
        let chart = try Chart(records: log, title: "runs")
        XCTAssertEqual(chart.panels.map(\.title), ["reward", "loss"])
        XCTAssertEqual(chart.panels.map { $0.series.map(\.label) }, [["fp32", "bf16"], ["fp32", "bf16"]])
    }

    func testChosenMetricsKeepTheirOrderAndUnknownOnesAreNamed() throws {
        let log = records(3) { ["step": Double($0), "loss": 1, "reward": 2, "kl": 3] }
        XCTAssertEqual(try Chart(records: log, title: "run", metrics: ["kl", "loss", "kl"]).panels.map(\.title), ["kl", "loss"])
        XCTAssertThrowsError(try Chart(records: log, title: "run", metrics: ["loss", "rewad"])) { error in
            XCTAssertEqual(error as? ChartError, .unknownMetrics(["rewad"], available: ["kl", "loss", "reward", "step"]))
        }
    }

    func testNoNumericMetricsIsAnError() {
        XCTAssertThrowsError(try Chart(records: [], title: "run")) { XCTAssertEqual($0 as? ChartError, .noNumericMetrics) }
        XCTAssertThrowsError(try Chart(records: records(2) { ["step": Double($0), "epoch": 1] }, title: "run")) {
            XCTAssertEqual($0 as? ChartError, .noNumericMetrics)
        }
    }

    func testRecordsWithoutStepsUseTheirPositionAndSparseMetricsSkipGaps() throws {
        let log = records(4) { $0 % 2 == 0 ? ["loss": Double($0)] : ["loss": Double($0), "kl": 0.5] }
        let chart = try Chart(records: log, title: "run")
        XCTAssertEqual(chart.panels.map(\.title), ["loss", "kl"])
        XCTAssertEqual(chart.panels[0].series[0].points, [PlotPoint(1, 1), PlotPoint(2, 2), PlotPoint(3, 3), PlotPoint(4, 4)])
        XCTAssertEqual(chart.panels[1].series[0].points, [PlotPoint(1, 0.5), PlotPoint(3, 0.5)])
    }

    func testOnlyNoisySeriesAreSmoothed() {
        let trend = (0..<100).map { Double($0) * 0.01 }
        let noisy = trend.enumerated().map { $0.element + ($0.offset % 2 == 0 ? 0.3 : -0.3) }
        XCTAssertFalse(Smoothing.isNoisy(trend))
        XCTAssertTrue(Smoothing.isNoisy(noisy))
        let smoothed = Smoothing.smoothed(noisy)
        XCTAssertEqual(smoothed[0], noisy[0], accuracy: 1e-12, "debiased: the first value is kept")
        XCTAssertLessThan(zip(smoothed.dropFirst(10), trend.dropFirst(10)).map { abs($0 - $1) }.max()!, 0.15)
    }
}
