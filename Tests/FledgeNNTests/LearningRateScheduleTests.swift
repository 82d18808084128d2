import XCTest
@testable import FledgeNN

/// Edge cases of the schedules (their values against transformers for every schedule and argument are
/// checked from the config in FledgeRLTests' `SchedulerArgumentsTests`).
final class LearningRateScheduleTests: XCTestCase {
    func testWarmupOfZeroStepsStartsAtTheBaseRate() {
        let schedule = LearningRateSchedule(shape: .cosine(), baseLearningRate: 1e-3, totalSteps: 4)
        XCTAssertEqual(schedule.learningRate(step: 0), 1e-3)
        XCTAssertEqual(schedule.learningRate(step: 2), 0.5e-3, accuracy: 1e-15)
        XCTAssertEqual(schedule.learningRate(step: 4), 0)
    }

    func testPolynomialWithoutDecayStepsStaysFinite() {
        // transformers divides by zero here (warm-up as long as training); Fledge ends at lr_end.
        let schedule = LearningRateSchedule(shape: .polynomial(endLearningRate: 1e-6, power: 2), baseLearningRate: 1e-3,
                                            warmupSteps: 3, totalSteps: 3)
        XCTAssertEqual(schedule.learningRate(step: 3), 1e-3, accuracy: 1e-15)
        XCTAssertEqual(schedule.learningRate(step: 4), 1e-6, accuracy: 1e-18)
    }
}
