import FledgeLM
import XCTest
@testable import FledgeRL

/// Every numeric field has a range in its field table; values outside it (NaN included) are errors
/// that name the field, the value and the range, both in `config check` and in the trainers.
final class ConfigRangeTests: TemporaryDirectoryTestCase {
    /// Resolves `yaml` as a config of `type` and asserts that the only error is `field`'s, with `text`.
    private func assertRefused<Config: TrainerConfig>(
        _ type: Config.Type, _ yaml: String, _ field: String, _ text: String, worldSize: Int = 1,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let resolved = try resolve(type, yaml, worldSize: worldSize)
        assertMessages(resolved.report, [.error(field, text)], "\(Config.trainer): \(yaml)", file: file, line: line)
    }

    // MARK: - Configs that crashed training or the check (issue 16, item 5)

    func testZeroIterationsAreRefusedByTheCheckAndByTheTrainer() throws {
        try assertRefused(GRPOConfig.self, "num_iterations: 0", "num_iterations", "must be in [1, 1048576]")
        try assertRefused(RLOOConfig.self, "num_iterations: 0", "num_iterations", "must be in [1, 1048576]")
        // A config built in code reaches the trainer without the resolver; it divided by zero there.
        let model = try LanguageModel(directory: GRPOTrainingTests.modelDirectory)
        let tokenizer = try Tokenizer(directory: GRPOTrainingTests.modelDirectory.path)
        var config = GRPOConfig(defaults: .unsloth)
        config.generation.numIterations = 0
        let dataset = PromptDataset(rows: [PromptDataset.Row(prompt: .string("1+2="), promptIds: tokenizer.encode("1+2="),
                                                             columns: JSONObject())],
                                    file: URL(fileURLWithPath: "(test)"))
        XCTAssertThrowsError(try GRPO(model: model, tokenizer: tokenizer, dataset: dataset, rewards: [], config: config)) { error in
            XCTAssertEqual("\(error)", "config values outside their ranges: num_iterations = 0: must be in [1, 1048576]")
        }
    }

    func testNegativeWarmupRatioIsRefusedByTheCheckAndByTheTrainer() throws {
        try assertRefused(SFTConfig.self, "warmup_ratio: -1", "warmup_ratio", "must be in [0, 1]")
        var arguments = TrainingArguments()
        arguments.warmupRatio = -1
        XCTAssertThrowsError(try quadraticTrainer(arguments)) { error in
            XCTAssert("\(error)".contains("warmup_ratio = -1.0: must be in [0, 1]"), "\(error)")
        }
    }

    func testMaxStepsOfIntMaxIsRefusedAndThePlanCountsItWithoutOverflow() throws {
        try assertRefused(GRPOConfig.self, "max_steps: 9223372036854775807", "max_steps", "must be in [-1, 1000000000]")
        var arguments = TrainingArguments()
        arguments.maxSteps = .max
        XCTAssertThrowsError(try quadraticTrainer(arguments))
        // The plan itself, public and reachable without the trainer, counts it without overflowing.
        let plan = try TrainingPlan(arguments: arguments, microBatchesPerEpoch: 3)
        XCTAssertEqual(plan.epochs, Int.max / plan.stepsPerEpoch + 1)
        arguments.maxSteps = -1
        arguments.numTrainEpochs = 1e300
        XCTAssertThrowsError(try TrainingPlan(arguments: arguments, microBatchesPerEpoch: 3)) { error in
            XCTAssert("\(error)".contains("too many steps to count"), "\(error)")
        }
    }

    func testHugeNumGenerationsIsRefusedWithoutTrapping() throws {
        try assertRefused(GRPOConfig.self, "num_generations: 4611686018427387904", "num_generations", "must be in [2, 1048576]")
        try assertRefused(RLOOConfig.self, "num_generations: 4611686018427387904", "num_generations", "must be in [2, 1048576]")
    }

    func testHundredMillionTokenCompletionIsRefused() throws {
        try assertRefused(GRPOConfig.self, "max_completion_length: 100000000", "max_completion_length",
                          "must be in [1, 16777216]")
        try assertRefused(PPOConfig.self, "response_length: 100000000", "response_length", "must be in [1, 16777216]")
    }

    func testCompletionThatFillsMaxSeqLengthIsRefused() throws {
        let model = GRPOTrainingTests.modelDirectory.path  // the demo model: max_position_embeddings 64
        try assertRefused(GRPOConfig.self, "model_name_or_path: \(model)\nmax_completion_length: 64", "max_completion_length",
                          "leaves no room for a prompt in max_seq_length (64); set it below 64")
        try assertRefused(PPOConfig.self, "model_name_or_path: \(model)\nreward_model_path: null\nresponse_length: 100",
                          "response_length", "set it below 64")
        try assertRefused(RLOOConfig.self, "max_seq_length: 512\nmax_completion_length: 512", "max_completion_length",
                          "leaves no room for a prompt in max_seq_length (512)")
        let fits = try resolve(GRPOConfig.self, "model_name_or_path: \(model)\nmax_completion_length: 63")
        XCTAssert(fits.report.isUsable, "\(fits.report.errors)")
    }

    func testHugeGradientAccumulationIsRefusedInsideConfigCheck() throws {
        let yaml = "gradient_accumulation_steps: 4611686018427387904"
        for (type, name) in [(GRPOConfig.self, "grpo"), (RLOOConfig.self, "rloo")] as [(any GroupSamplingConfig.Type, String)] {
            let resolved = ConfigResolver.resolve(try ConfigDocument(yaml: yaml, source: name), options: ConfigOptions(trainer: type.trainer))
            XCTAssertEqual(resolved.report.errors.map(\.description),
                           ["gradient_accumulation_steps = 4611686018427387904: must be in [1, 1048576]"], name)
        }
        try assertRefused(PPOConfig.self, yaml, "gradient_accumulation_steps", "must be in [1, 1048576]")
    }

    func testHugeWorldSizeIsRefusedInsideConfigCheck() throws {
        for trainer in TrainerKind.allCases {
            let resolved = ConfigResolver.resolve(ConfigDocument(source: "empty", entries: []),
                                                  options: ConfigOptions(trainer: trainer, worldSize: 1 << 62))
            XCTAssertEqual(resolved.report.errors.map(\.field), ["world_size"], "\(trainer)")
            XCTAssert(resolved.report.errors[0].text.contains("an integer in [1, 1048576]"), "\(trainer)")
        }
    }

    // MARK: - Configs that did nothing or the wrong thing (issue 16, item 6)

    func testZeroOrNegativeMaxCompletionLengthIsRefused() throws {
        for value in ["0", "-1"] {
            try assertRefused(GRPOConfig.self, "max_completion_length: \(value)", "max_completion_length", "must be in [1, 16777216]")
        }
    }

    func testNaNRewardWeightIsRefused() throws {
        try assertRefused(GRPOConfig.self, "reward_weights: [.nan]", "reward_weights",
                          "item 1 is .nan; every item must be in [-1e30, 1e30]")
        try assertRefused(RLOOConfig.self, "reward_weights: [1, .inf]", "reward_weights", "item 2 is .inf")
    }

    func testNegativeLearningRateMustBePositive() throws {
        let resolved = try resolve(SFTConfig.self, "learning_rate: -1e-5")
        XCTAssertEqual(resolved.report.messages.map(\.description),
                       ["learning_rate = -1e-05: must be positive and finite; a learning rate of 0 or below does not train"])
    }

    func testNegativeEpsilonIsRefused() throws {
        try assertRefused(GRPOConfig.self, "epsilon: -1", "epsilon", "must be in [0, 1]")
    }

    func testTopPOfZeroOrTwoIsRefused() throws {
        for value in ["0", "2"] { try assertRefused(GRPOConfig.self, "top_p: \(value)", "top_p", "must be in (0, 1]") }
    }

    func testMinPAboveOneIsRefused() throws {
        try assertRefused(RLOOConfig.self, "min_p: 2", "min_p", "must be in [0, 1]")
    }

    func testZeroRepetitionPenaltyIsRefused() throws {
        try assertRefused(GRPOConfig.self, "repetition_penalty: 0", "repetition_penalty", "must be positive and finite")
    }

    func testNaNMaxGradNormIsRefused() throws {
        try assertRefused(DPOConfig.self, "max_grad_norm: .nan", "max_grad_norm", "must be at least 0 and finite")
    }

    func testNaNOrNegativeBetaIsRefused() throws {
        for value in [".nan", "-1"] {
            try assertRefused(GRPOConfig.self, "beta: \(value)", "beta", "must be at least 0 and finite; 0 turns the KL term off")
            try assertRefused(DPOConfig.self, "beta: \(value)", "beta", "must be positive and finite")
        }
    }

    // MARK: - The ranges themselves

    func testEveryNumericFieldDeclaresARange() {
        assertEveryNumericFieldHasARange(GRPOConfig.self)
        assertEveryNumericFieldHasARange(DPOConfig.self)
        assertEveryNumericFieldHasARange(PPOConfig.self)
        assertEveryNumericFieldHasARange(SFTConfig.self)
        assertEveryNumericFieldHasARange(RLOOConfig.self)
        assertEveryNumericFieldHasARange(KTOConfig.self)
    }

    private func assertEveryNumericFieldHasARange<Config: TrainerConfig>(_ type: Config.Type) {
        for field in Config.fields {
            var config = Config()
            guard (try? field.write(&config, .double(0.5))) != nil || (try? field.write(&config, .int(1))) != nil else { continue }
            let numeric = switch field.read(config) {
            case .int, .double: true
            case .list(let items): items.allSatisfy(\.isNumber)
            default: false
            }
            XCTAssertEqual(field.range != nil, numeric, "\(Config.trainer) \(field.name)")
        }
    }

    func testNaNIsOutsideEveryRange() {
        assertNaNIsRefused(GRPOConfig.self)
        assertNaNIsRefused(DPOConfig.self)
        assertNaNIsRefused(PPOConfig.self)
        assertNaNIsRefused(SFTConfig.self)
        assertNaNIsRefused(RLOOConfig.self)
        XCTAssertFalse(ConfigRange.finite.contains(.nan))
        XCTAssertFalse(ConfigRange.finite.contains(.infinity))
    }

    private func assertNaNIsRefused<Config: TrainerConfig>(_ type: Config.Type) {
        for field in Config.fields where field.range != nil {
            var config = Config()
            guard (try? field.write(&config, .double(.nan))) != nil else { continue }  // an integer field
            let errors = config.rangeErrors.filter { $0.field == field.name }
            XCTAssertEqual(errors.count, 1, "\(Config.trainer) \(field.name) = nan")
        }
    }

    func testEveryDefaultIsInsideItsRange() {
        for trainer in TrainerKind.allCases {
            for preset in [DefaultsPreset.trl, .unsloth] {
                let resolved = ConfigResolver.resolve(ConfigDocument(source: "empty", entries: []),
                                                      options: ConfigOptions(trainer: trainer, preset: preset, worldSize: 1))
                XCTAssert(resolved.report.isUsable, "\(trainer), \(preset): \(resolved.report.errors)")
            }
        }
    }

    func testRangesReadAsIntervals() {
        XCTAssertEqual(ConfigRange.closed(1, ConfigRange.countLimit).description, "[1, 1048576]")
        XCTAssertEqual(ConfigRange.leftOpen(0, 1).description, "(0, 1]")
        XCTAssertEqual(ConfigRange.atLeast(0).description, "[0, ∞)")
        XCTAssertEqual(ConfigRange.ordinaryMagnitude.description, "[-1e30, 1e30]")
        XCTAssertEqual(ConfigRange.positive.requirement, "positive and finite")
        XCTAssertEqual(ConfigRange.finite.requirement, "finite")
        XCTAssertEqual(ConfigRange.atLeast(0).because("0 turns it off").requirement, "at least 0 and finite; 0 turns it off")
        XCTAssert(ConfigRange.rightOpen(0, 1).contains(0))
        XCTAssertFalse(ConfigRange.rightOpen(0, 1).contains(1))
    }

    func testChecksDoNotRunOnValuesOutsideTheirRanges() throws {
        // The batch-geometry check would multiply these; the range errors come alone.
        let resolved = try resolve(GRPOConfig.self, "per_device_train_batch_size: 0\nnum_generations: 1\ntemperature: 0", worldSize: 2)
        XCTAssertEqual(Set(resolved.report.messages.map(\.field)), ["per_device_train_batch_size", "num_generations", "temperature"])
        XCTAssert(resolved.report.messages.allSatisfy { $0.kind == .error })
    }

    func testDerivedValueOutsideItsRangeIsAnError() throws {
        let resolved = try resolve(GRPOConfig.self, "per_device_train_batch_size: 1048576\ngradient_accumulation_steps: 1048576")
        XCTAssertEqual(resolved.report.errors.map(\.description), [
            "generation_batch_size = 1099511627776: must be in [1, 1048576] (the value Fledge derived from the other fields; "
                + "change those)",
        ])
    }

    func testRewardClipRangeMustBeAPairWithMinimumFirst() throws {
        try assertRefused(RLOOConfig.self, "reward_clip_range: [1]", "reward_clip_range", "give two values [min, max], not 1")
        try assertRefused(RLOOConfig.self, "reward_clip_range: [1, -1]", "reward_clip_range", "the minimum 1.0 is above the maximum")
        XCTAssert(try resolve(RLOOConfig.self, "reward_clip_range: [-1, 1]").report.isUsable)
    }

    func testConfigBuiltInCodeIsCheckedAgainstTheSameRanges() {
        var config = DPOConfig()
        XCTAssertNoThrow(try config.checkRanges())
        config.beta = -1
        config.training.perDeviceTrainBatchSize = 0
        XCTAssertThrowsError(try config.checkRanges()) { error in
            XCTAssertEqual((error as? ConfigRangeError)?.errors.map(\.field), ["per_device_train_batch_size", "beta"])
        }
    }

    // MARK: - Support

    /// A trainer of the quadratic toy problem with `arguments` (its output in the test's directory).
    private func quadraticTrainer(_ arguments: TrainingArguments) throws -> Trainer<QuadraticAlgorithm> {
        var arguments = arguments
        arguments.outputDir = directory.path
        let model = QuadraticModel()
        return try Trainer(algorithm: QuadraticAlgorithm(model: model), model: model, arguments: arguments)
    }
}
