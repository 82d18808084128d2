import Foundation
import XCTest
@testable import FledgeRL

final class DefaultsTests: XCTestCase {
    /// The fixture written by `Scripts/reference/dump_trl_config_fields.py` from the installed TRL.
    private struct TRLFields: Decodable {
        let trainers: [String: [String: JSONScalar]]
        let script: [String: [String: JSONScalar]]
    }

    private func trlFields() throws -> TRLFields {
        try JSONDecoder().decode(TRLFields.self, from: Data(contentsOf: fixtureURL("trl_config_fields.json")))
    }

    func testUnslothDefaults() throws {
        let shared: [String: ConfigValue] = [
            "per_device_train_batch_size": .int(4), "gradient_accumulation_steps": .int(2), "weight_decay": .double(0.01),
            "warmup_ratio": .double(0.1), "seed": .int(3407), "optim": .string("adamw_8bit"),
            "learning_rate": .double(5e-5), "per_device_eval_batch_size": .int(4), "eval_accumulation_steps": .int(2),
            "logging_steps": .int(1), "logging_nan_inf_filter": .bool(false), "max_seq_length": .null,
            "auto_find_batch_size": .bool(false),
        ]
        let grpo: [String: ConfigValue] = [
            "num_generations": .int(8), "loss_type": .string("bnpo"), "beta": .double(0.001), "top_k": .null,
            "temperature": .double(1.0), "epsilon": .double(0.2), "epsilon_high": .double(0.2),
            "scale_rewards": .string("group"), "mask_truncated_completions": .bool(false), "num_iterations": .int(1),
            "importance_sampling_level": .string("token"), "max_completion_length": .int(256),
        ]
        let configs: [any ResolvedConfig] = [
            try resolve(GRPOConfig.self, ""), try resolve(DPOConfig.self, ""), try resolve(PPOConfig.self, ""),
            try resolve(SFTConfig.self, ""), try resolve(RLOOConfig.self, ""),
        ]
        for resolved in configs {
            let expected = resolved.trainer == .grpo ? shared.merging(grpo) { $1 } : shared
            for (field, wanted) in expected {
                XCTAssertEqual(value(resolved, field), wanted, "\(resolved.trainer) \(field)")
            }
        }
    }

    /// `defaults: trl` gives TRL's current declared default for every field TRL has.
    func testTRLPresetMatchesTRL() throws {
        let fixture = try trlFields()
        let script = fixture.script.values.reduce(into: [String: JSONScalar]()) { $0.merge($1) { a, _ in a } }
        let configs: [any ResolvedConfig] = [
            try resolve(GRPOConfig.self, "", preset: .trl), try resolve(DPOConfig.self, "", preset: .trl),
            try resolve(PPOConfig.self, "", preset: .trl), try resolve(SFTConfig.self, "", preset: .trl),
            try resolve(RLOOConfig.self, "", preset: .trl),
            try resolve(KTOConfig.self, "", preset: .trl),
        ]
        for resolved in configs {
            let trl = fixture.trainers[resolved.trainer.rawValue]!.merging(script) { a, _ in a }
            for entry in resolved.entries where !resolved.derivedFields.contains(entry.key) {
                guard let declared = trl[entry.key] else { continue }
                XCTAssert(
                    ConfigResolver.sameValue(entry.value, declared.value),
                    "\(resolved.trainer) \(entry.key): Fledge \(entry.value), TRL \(declared.value)")
            }
        }
    }

    /// Every field TRL's configs and scripts accept is known: supported, not applicable, unimplemented
    /// (with TRL's default), or retired.
    func testEveryTRLFieldIsKnown() throws {
        let fixture = try trlFields()
        let script = fixture.script.values.reduce(into: [String: JSONScalar]()) { $0.merge($1) { a, _ in a } }
        for trainer in TrainerKind.allCases {
            let supported = Set(ConfigResolver.fieldNames(of: trainer))
            for (name, declared) in fixture.trainers[trainer.rawValue]!.merging(script, uniquingKeysWith: { a, _ in a })
            where !supported.contains(name) {
                if let unimplemented = UnimplementedFields.entry(for: name) {
                    XCTAssert(ConfigResolver.sameValue(unimplemented.defaultValue, declared.value),
                              "\(trainer) \(name): table \(unimplemented.defaultValue), TRL \(declared.value)")
                } else {
                    XCTAssert(NotApplicableFields.reason(for: name) != nil || RetiredFields.entry(for: name) != nil,
                              "\(trainer) \(name) is unknown to Fledge")
                }
            }
        }
    }

    /// Key paths formed on the concrete type and in generic code both find their field.
    func testKeyPathsOfChecksResolveToNames() {
        func generic<C: GroupSamplingConfig>(_: C.Type) -> [String] {
            [C.field(at: \C.generation.beta).name, C.field(at: \C.training.seed).name, C.field(at: \C.run.loraR).name]
        }
        XCTAssertEqual(GRPOConfig.field(at: \GRPOConfig.generation.beta).name, "beta")
        XCTAssertEqual(GRPOConfig.field(at: \GRPOConfig.training.learningRate).name, "learning_rate")
        XCTAssertEqual(GRPOConfig.field(at: \GRPOConfig.run.loraR).name, "lora_r")
        XCTAssertEqual(generic(GRPOConfig.self), ["beta", "seed", "lora_r"])
        XCTAssertEqual(generic(RLOOConfig.self), ["beta", "seed", "lora_r"])
        for names in TrainerKind.allCases.map(ConfigResolver.fieldNames(of:)) {
            XCTAssertEqual(Set(names).count, names.count, "duplicate field names")
        }
    }
}
