import FledgeNN
import Foundation
import XCTest
@testable import FledgeRL

/// `lr_scheduler_type` with `lr_scheduler_kwargs` against transformers' `get_scheduler`
/// (`Scripts/reference/make_schedule_fixtures.py`: every schedule but the metric-driven ones, at its
/// defaults and with each argument it takes, for two steps past the end).
final class SchedulerArgumentsTests: XCTestCase {
    private struct Case: Decodable {
        let name: String
        let type: String
        let kwargs: [String: KeywordValue]
        let learning_rate: Double
        let warmup_steps: Int
        let training_steps: Int
        let rates: [Double]
    }

    private enum KeywordValue: Decodable {
        case int(Int), double(Double), string(String)
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Int.self) { self = .int(value) }
            else if let value = try? container.decode(Double.self) { self = .double(value) }
            else { self = .string(try container.decode(String.self)) }
        }
        var configValue: ConfigValue {
            switch self {
            case .int(let value): .int(value)
            case .double(let value): .double(value)
            case .string(let value): .string(value)
            }
        }
    }

    private struct Fixture: Decodable { let cases: [Case] }

    func testRatesMatchTransformers() throws {
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: fixtureURL("schedules.json")))
        XCTAssertEqual(Set(fixture.cases.map(\.type)), Set(LRSchedulerType.allCases.map(\.rawValue)),
                       "every schedule Fledge implements has reference rates")
        for item in fixture.cases {
            var arguments = TrainingArguments()
            arguments.lrSchedulerType = try LRSchedulerType(configValue: .string(item.type))
            arguments.learningRate = item.learning_rate
            let entries = item.kwargs.sorted { $0.key < $1.key }.map { ConfigEntry(key: $0.key, value: $0.value.configValue) }
            arguments.lrSchedulerKwargs = entries.isEmpty ? nil : KeywordArguments(entries)
            let schedule = LearningRateSchedule(shape: try arguments.learningRateShape(), baseLearningRate: item.learning_rate,
                                                warmupSteps: item.warmup_steps, totalSteps: item.training_steps)
            for (step, expected) in item.rates.enumerated() {
                XCTAssertEqual(schedule.learningRate(step: step), expected, "\(item.name), step \(step)")
            }
        }
    }

    func testKeywordsFromAConfigFile() throws {
        let yaml = """
            model_name_or_path: m
            lr_scheduler_type: warmup_stable_decay
            lr_scheduler_kwargs: {num_decay_steps: 20, decay_type: 1-sqrt, min_lr_ratio: 0.1}
            """
        let resolution = try resolve(SFTConfig.self, yaml)
        XCTAssert(resolution.report.isUsable, "\(resolution.report.errors)")
        XCTAssertEqual(try resolution.config.training.learningRateShape(), .warmupStableDecay(
            WarmupStableDecay(decaySteps: 20, decay: .oneMinusSquareRoot, minimumRatio: 0.1)))
        let json = try resolve(SFTConfig.self, """
            model_name_or_path: m
            lr_scheduler_type: cosine_with_min_lr
            lr_scheduler_kwargs: '{"min_lr": 1e-6, "num_cycles": 0.5}'
            """)
        XCTAssertEqual(try json.config.training.learningRateShape(),
                       .cosine(cycles: 0.5, minimumRate: 1e-6 / json.config.training.learningRate))
    }

    func testBadArgumentsAreRefusedNamingTheArgument() throws {
        let cases: [(String, String, String)] = [
            ("cosine", "{num_cycles: 1, min_lr: 1e-6}", "lr_scheduler_kwargs.min_lr is not an argument of the cosine schedule, which takes num_cycles"),
            ("linear", "{power: 2}", "linear schedule, which takes no arguments"),
            ("cosine_with_min_lr", "{}", "needs lr_scheduler_kwargs.min_lr"),
            ("cosine_with_min_lr", "{min_lr: 1e-6, min_lr_rate: 0.1}", "not both"),
            ("warmup_stable_decay", "{warmup_type: linear}", "needs lr_scheduler_kwargs.num_decay_steps"),
            ("warmup_stable_decay", "{num_decay_steps: 5, decay_type: exp}", "decay_type must be one of linear, cosine, 1-sqrt"),
            ("polynomial", "{lr_end: 0.1}", "must be smaller than learning_rate"),
            ("inverse_sqrt", "{timescale: 0}", "timescale (0) must be positive"),
            ("cosine", "{num_cycles: many}", "num_cycles must be a finite number"),
        ]
        for (type, kwargs, message) in cases {
            let resolution = try resolve(SFTConfig.self, """
                model_name_or_path: m
                lr_scheduler_type: \(type)
                lr_scheduler_kwargs: \(kwargs)
                """)
            let errors = resolution.report.errors
            XCTAssert(errors.contains { $0.field == "lr_scheduler_kwargs" && $0.text.contains(message) },
                      "\(type) \(kwargs): \(errors)")
        }
        let notAMapping = try resolve(SFTConfig.self, "model_name_or_path: m\nlr_scheduler_kwargs: [1, 2]")
        XCTAssert(notAMapping.report.errors.contains { $0.field == "lr_scheduler_kwargs" && $0.text.contains("a mapping") },
                  "\(notAMapping.report.errors)")
    }

    func testConstantSchedulesIgnoreArgumentsWithAWarning() throws {
        let resolution = try resolve(SFTConfig.self, """
            model_name_or_path: m
            lr_scheduler_type: constant_with_warmup
            lr_scheduler_kwargs: {num_cycles: 2}
            """)
        XCTAssert(resolution.report.warnings.contains { $0.field == "lr_scheduler_kwargs" && $0.text.contains("num_cycles is ignored") },
                  "\(resolution.report.warnings)")
        XCTAssertEqual(try resolution.config.training.learningRateShape(), .constantWithWarmup)
    }
}
