import XCTest
@testable import FledgeRL

/// `gradient_checkpointing` reads TRL's booleans and Fledge's `auto`, whose budget is
/// `activation_memory_budget_mb` or the memory available.
final class GradientCheckpointingConfigTests: XCTestCase {
    func testValuesAndBudget() throws {
        XCTAssertEqual(try GradientCheckpointing(configValue: .bool(true)), .enabled)
        XCTAssertEqual(try GradientCheckpointing(configValue: .string("False")), .disabled)
        XCTAssertEqual(try GradientCheckpointing(configValue: .string("auto")), .auto)
        XCTAssertThrowsError(try GradientCheckpointing(configValue: .string("sometimes"))) { error in
            XCTAssertEqual((error as? ConfigTypeMismatch)?.expected, "true, false or auto")
        }
        XCTAssertEqual(GradientCheckpointing.enabled.configValue, .bool(true))

        var training = TrainingArguments()
        XCTAssertTrue(training.checkpointsGradients)
        XCTAssertNil(training.checkpointingMemoryBudget)
        training.gradientCheckpointing = .auto
        training.activationMemoryBudgetMb = 1.5
        XCTAssertEqual(training.checkpointingMemoryBudget, 1_572_864)
        training.activationMemoryBudgetMb = nil
        XCTAssertGreaterThan(training.checkpointingMemoryBudget ?? 0, 0)
    }

    func testMeminfoAvailableLine() {
        let text = "MemTotal:       131072000 kB\nMemFree:         1000 kB\nMemAvailable:   65536000 kB\n"
        XCTAssertEqual(AvailableMemory.available(inMeminfo: text), 65_536_000 * 1024)
        XCTAssertNil(AvailableMemory.available(inMeminfo: "MemTotal: 5 kB\n"))
        XCTAssertNil(AvailableMemory.available(inMeminfo: "MemAvailable: lots\n"))
    }
}
