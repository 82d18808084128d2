import XCTest
@testable import FledgeNN

/// Schedules against transformers' `get_scheduler` (base 3e-4, 3 warm-up steps, 10 training
/// steps, 12 steps read so that the steps past the end are covered).
final class LearningRateScheduleTests: XCTestCase {
    func testMatchesTransformers() throws {
        let schedules = try OptimizerFixture.schedules()
        XCTAssertEqual(Set(schedules.keys), Set(LearningRateScheduleKind.allCases.map(\.rawValue)))
        for kind in LearningRateScheduleKind.allCases {
            let schedule = LearningRateSchedule(kind: kind, baseLearningRate: 3e-4, warmupSteps: 3, totalSteps: 10)
            let expected = try XCTUnwrap(schedules[kind.rawValue])
            let actual = (0..<expected.count).map { schedule.learningRate(step: $0) }
            let error = zip(actual, expected).map { abs($0 - $1) / 3e-4 }.max()!
            print(String(format: "  %@: max error %.1e of the base rate", kind.rawValue, error))
            XCTAssertLessThanOrEqual(error, 1e-12, kind.rawValue)
        }
    }

    func testWarmupOfZeroStepsStartsAtTheBaseRate() {
        let schedule = LearningRateSchedule(kind: .cosine, baseLearningRate: 1e-3, totalSteps: 4)
        XCTAssertEqual(schedule.learningRate(step: 0), 1e-3)
        XCTAssertEqual(schedule.learningRate(step: 2), 0.5e-3, accuracy: 1e-15)
        XCTAssertEqual(schedule.learningRate(step: 4), 0)
    }
}
