import FledgeLM
import XCTest
@testable import FledgeRL

/// `generation_kwargs` as TRL 1.16 passes them to transformers' `GenerationConfig` (its dictionary
/// updates the one built from the sampling fields): honoured keys change the sampler, keys the sampler
/// cannot honour are refused by name at config check.
final class GenerationKeywordArgumentsTests: TemporaryDirectoryTestCase {
    private func sampling(_ kwargs: String, _ configure: (inout GenerationArguments) -> Void = { _ in })
        throws(KeywordArgumentsError) -> SamplingOptions {
        var generation = GenerationArguments()
        generation.generationKwargs = try! KeywordArguments(configValue: ConfigDocument(yaml: "k: " + kwargs, source: "test").entries[0].value)
        configure(&generation)
        var options = SamplingOptions()
        options.temperature = 0.9
        options.topK = 7
        try generation.applyGenerationKeywordArguments(to: &options, vocabularySize: 100)
        return options
    }

    func testHonouredKeysOverrideTheFields() throws {
        let options = try sampling("{temperature: 0.5, top_p: 0.8, top_k: null, min_p: 0.05, repetition_penalty: 1.2, "
            + "suppress_tokens: [3, 99], do_sample: true, num_beams: 1, use_cache: true, cache_implementation: static, "
            + "max_new_tokens: 512}")
        XCTAssertEqual(options.temperature, 0.5)
        XCTAssertEqual(options.topP, 0.8)
        XCTAssertEqual(options.topK, 0, "top_k: null turns top-k off, as GenerationConfig's None does")
        XCTAssertEqual(options.minP, 0.05)
        XCTAssertEqual(options.repetitionPenalty, 1.2)
        XCTAssertEqual(options.suppressedTokenIds, [3, 99])
        // A JSON object in a string is read as transformers reads it; absent keys leave the fields' values.
        let json = try sampling("'{\"suppress_tokens\": 4}'")
        XCTAssertEqual(json.suppressedTokenIds, [4])
        XCTAssertEqual(json.temperature, 0.9)
        XCTAssertEqual(json.topK, 7)
    }

    func testKeysTheSamplerCannotHonourAreRefusedByName() {
        let cases: [(String, String)] = [
            ("{num_beams: 4}", "generation_kwargs.num_beams is 4, but Fledge samples each completion on its own"),
            ("{do_sample: false}", "generation_kwargs.do_sample is false, but the completions of a group must be sampled"),
            ("{max_new_tokens: 64}", "generation_kwargs.max_new_tokens is 64; set max_completion_length instead"),
            ("{eos_token_id: 2}", "generation_kwargs.eos_token_id is not taken"),
            ("{no_repeat_ngram_size: 3}", "generation_kwargs.no_repeat_ngram_size is not an argument of Fledge's sampler, "
                + "which takes cache_implementation, do_sample, eos_token_id, max_new_tokens, min_p, num_beams, "
                + "num_return_sequences, repetition_penalty, suppress_tokens, temperature, top_k, top_p, use_cache"),
            ("{temperature: 0}", "generation_kwargs.temperature must be positive, not 0.0"),
            ("{top_p: 1.5}", "generation_kwargs.top_p must be in (0, 1], not 1.5"),
            ("{suppress_tokens: [5, 100]}", "generation_kwargs.suppress_tokens holds 100, which is not a token id of the model (0..<100)"),
            ("{suppress_tokens: two}", "generation_kwargs.suppress_tokens must be a list of integers"),
        ]
        for (kwargs, expected) in cases {
            XCTAssertThrowsError(try sampling(kwargs)) { error in
                XCTAssert("\(error)".hasPrefix(expected), "\(kwargs): \(error)")
            }
        }
    }

    /// `fledge config check` refuses a bad key before anything loads (GRPO and RLOO share the check).
    func testConfigCheckRefusesBadKeys() throws {
        let grpo = try resolve(GRPOConfig.self, "generation_kwargs: {num_beams: 2}")
        XCTAssertFalse(grpo.report.isUsable)
        XCTAssert(grpo.report.errors.contains { "\($0)".contains("generation_kwargs.num_beams is 2") }, "\(grpo.report.errors)")
        let rloo = try resolve(RLOOConfig.self, "generation_kwargs: {typical_p: 0.9}")
        XCTAssert(rloo.report.errors.contains { "\($0)".contains("generation_kwargs.typical_p is not an argument") }, "\(rloo.report.errors)")
        XCTAssert(try resolve(GRPOConfig.self, "generation_kwargs: {top_k: 20, suppress_tokens: [1]}").report.isUsable)
    }

    /// GRPO generates with them: suppressing the end-of-sequence token makes every completion run to
    /// `max_completion_length` (all clipped), where the plain run stops some early.
    func testGRPOSamplesWithThem() throws {
        let modelDirectory = GRPOTrainingTests.modelDirectory
        let tokenizer = try Tokenizer(directory: modelDirectory.path)
        let eos = try XCTUnwrap(tokenizer.config.eosToken.flatMap { tokenizer.id(of: $0) })
        func clippedRatio(_ kwargs: String?) throws -> Double {
            let yaml = [
                "model_name_or_path: \(modelDirectory.path)", "output_dir: \(directory.path)/run\(kwargs == nil ? 0 : 1)",
                "reward_funcs: [answer]", "use_peft: true", "lora_target_modules: all-linear", "per_device_train_batch_size: 8", "num_generations: 4", "max_completion_length: 6",
                "max_steps: 1", "logging_steps: 1", "save_strategy: \"no\"", "gradient_checkpointing: false", "temperature: 1.0",
            ] + (kwargs.map { ["generation_kwargs: \($0)"] } ?? [])
            let config = try resolve(GRPOConfig.self, yaml.joined(separator: "\n")).config
            let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
            let rows = ArithmeticTask().problems(count: 8, seed: 11).map { problem in
                PromptDataset.Row(prompt: .string(problem.prompt), promptIds: tokenizer.encode(problem.prompt, addSpecialTokens: true),
                                  columns: JSONObject([("answer", .string(problem.answer))]))
            }
            let grpo = try GRPO(model: model, tokenizer: tokenizer, dataset: PromptDataset(rows: rows, file: URL(fileURLWithPath: "(problems)")),
                                rewards: try BuiltInRewards.make(config: config), config: config)
            let records = try Trainer(algorithm: grpo, model: model, arguments: config.training).train().state.logHistory
            return try XCTUnwrap(records.first?["completions/clipped_ratio"])
        }
        XCTAssertLessThan(try clippedRatio(nil), 1, "the demo model ends some answers within 6 tokens (fixture)")
        XCTAssertEqual(try clippedRatio("{suppress_tokens: [\(eos)]}"), 1)
    }
}
