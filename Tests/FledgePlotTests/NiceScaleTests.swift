import Foundation
import XCTest
@testable import FledgePlot

final class NiceScaleTests: XCTestCase {
    /// Whether `step` is 1, 2 or 5 times a power of ten.
    private func isNice(_ step: Double) -> Bool {
        let mantissa = step / pow(10, (log10(step) + 1e-9).rounded(.down))
        return [1, 2, 5].contains { abs(mantissa - $0) < 1e-9 }
    }

    func testTicksAreRoundMultiplesInsideTheRange() {
        let ranges: [(Double, Double)] = [(0, 1), (-0.05, 1.02), (0.153, 0.387), (1812, 2431), (1e-7, 5e-6), (-3.2, -1.1),
                                          (0.7, 0.7), (0, 0), (2410, 2440), (-120.5, -80.25), (0.693, 0.6931)]
        for (low, high) in ranges {
            let scale = NiceScale(covering: low, high, padding: 0.06)
            XCTAssertTrue(isNice(scale.tickStep), "\(low)...\(high): step \(scale.tickStep)")
            XCTAssertTrue((3...9).contains(scale.ticks.count), "\(low)...\(high): \(scale.ticks)")
            XCTAssertLessThanOrEqual(scale.lower, low)
            XCTAssertGreaterThanOrEqual(scale.upper, high)
            for tick in scale.ticks {
                XCTAssertTrue((scale.lower - 1e-12...scale.upper + 1e-12).contains(tick), "\(tick) outside \(scale.lower)...\(scale.upper)")
                let multiple = tick / scale.tickStep
                XCTAssertEqual(multiple, multiple.rounded(), accuracy: 1e-6, "\(tick) is not a multiple of \(scale.tickStep)")
            }
        }
    }

    func testKnownAxes() {
        XCTAssertEqual(NiceScale(covering: 0, 1).ticks, [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
        let steps = NiceScale(covering: 1, 200, targetTicks: 6, integral: true)
        XCTAssertEqual(steps.ticks, [50, 100, 150, 200])
        XCTAssertEqual(steps.lower, 1)
        XCTAssertEqual(NiceScale(covering: 1, 3, targetTicks: 6, integral: true).ticks, [1, 2, 3], "steps stay whole")
    }

    func testLabelsShowTheDigitsTheStepNeeds() {
        let unit = NiceScale(covering: 0, 1)
        XCTAssertEqual(unit.ticks.map(unit.label), ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        XCTAssertEqual(NumberLabel.format(0.25, resolution: 0.05), "0.25")
        XCTAssertEqual(NumberLabel.format(15000, resolution: 500), "15k")
        XCTAssertEqual(NumberLabel.format(2_500_000, resolution: 500_000), "2.5M")
        XCTAssertEqual(NumberLabel.format(5e-6, resolution: 1e-6), "5e-6")
        XCTAssertEqual(NumberLabel.format(2.5e-5, resolution: 5e-6), "2.5e-5")
        XCTAssertEqual(NumberLabel.format(-1, resolution: 0.5), "-1.0")
        XCTAssertEqual(NumberLabel.format(0.86171), "0.8617")
        XCTAssertEqual(NumberLabel.format(2440), "2440")
        XCTAssertEqual(NumberLabel.format(-165.004), "-165")
    }
}
