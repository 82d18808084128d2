import Foundation
import XCTest
@testable import FledgeRL

/// Multi-turn tool-calling episodes against TRL 1.16's own GRPOTrainer tool loop (fixtures by
/// Scripts/reference/make_tool_episode_fixtures.py): the same scripted model turns must give the same prompt ids,
/// completion ids, tool masks (exactly), tool metrics, and — from Fledge's forward of the tiny Qwen2 — the same loss
/// and gradients within 1e-5 relative.
final class ToolEpisodeTests: XCTestCase {
    /// TRL's `multiply` tool: `str(a * b)`, raising for a negative `b`.
    struct Multiply: Tool {
        let name = "multiply"
        let definition: JSONValue

        func call(arguments: JSONValue) throws -> ToolOutcome {
            guard case .int(let a)? = arguments["a"], case .int(let b)? = arguments["b"] else {
                return .failure("multiply() missing arguments")
            }
            return b < 0 ? .failure("b must not be negative") : ToolOutcome(text: String(a * b))
        }
    }

    private var fixture: JSONValue!
    private var tokenizer: Tokenizer!

    override func setUpWithError() throws {
        fixture = try JSONParser.parse([UInt8](Data(contentsOf: fixtureURL("tool_episodes/episodes.json"))))
        tokenizer = try Tokenizer(directory: fixtureURL("tool_episodes/model").path)
    }

    private func batches() throws -> [JSONValue] {
        guard case .array(let batches)? = fixture["batches"] else { throw AgentError("malformed fixture") }
        return batches
    }

    /// The runs of tool-result tokens (false) in an episode's model-token mask: its answered tool-calling turns.
    static func toolResultRuns(_ mask: [Bool]) -> Int {
        zip([true] + mask, mask).filter { $0 && !$1 }.count
    }

    /// Runs a batch's episodes with its scripted turns, by `runner` or one made as the fixture says: each row's prompt
    /// ids, completion ids, model-token mask and tool counts.
    private func episodes(_ batch: JSONValue, runner: EpisodeRunner? = nil) throws -> (prompts: [[Int]], results: [EpisodeRunner.Result]) {
        guard case .array(let tools)? = batch["tools"], case .array(let rows)? = batch["rows"],
              case .array(let prompts)? = fixture["prompts"], case .int(let maxLength)? = batch["max_completion_length"],
              case .int(let iterations)? = fixture["max_tool_calling_iterations"] else { throw AgentError("malformed fixture") }
        let template = try XCTUnwrap(tokenizer.config.chatTemplates["default"])
        let format = try XCTUnwrap(ResponseFormat.detect(chatTemplate: template))
        let runner = try runner ?? EpisodeRunner(toolbox: try Toolbox(tools: [Multiply(definition: tools[0])]), tokenizer: tokenizer,
                                                 parser: ResponseParser(format: format, tokenizer: tokenizer, chatTemplate: template),
                                                 maxCompletionLength: maxLength, maxToolCallingIterations: iterations, maxModelLength: 1024)
        let toolbox = runner.toolbox
        let turns: [[[Int]]] = rows.map { row in
            guard case .array(let texts)? = row["turns"] else { return [] }
            return texts.compactMap { $0.stringValue.map { tokenizer.encode($0) } }
        }
        var episodes: [Episode] = [], promptIds: [[Int]] = []
        for index in rows.indices {
            guard case .array(let messages) = prompts[index / 2] else { throw AgentError("malformed prompt") }
            let episode = try toolbox.startEpisode(rollout: index, row: JSONObject([("prompt", prompts[index / 2])]))
            episodes.append(episode)
            promptIds.append(try runner.promptIds(messages, episode: episode))
        }
        let results = try runner.run(promptIds: promptIds, episodes: episodes) { requests, _ in
            requests.map { turns[$0.row][$0.turn] }
        }
        return (promptIds, results)
    }

    func testEpisodesMatchTRLsToolLoop() throws {
        for (number, batch) in try batches().enumerated() {
            guard case .array(let rows)? = batch["rows"] else { return XCTFail("malformed fixture") }
            let (prompts, results) = try episodes(batch)
            for (index, row) in rows.enumerated() {
                XCTAssertEqual(prompts[index], row["prompt_ids"]?.intArray, "batch \(number) row \(index): prompt ids")
                XCTAssertEqual(results[index].completionIds, row["completion_ids"]?.intArray, "batch \(number) row \(index): completion ids")
                XCTAssertEqual(results[index].modelTokens.map { $0 ? 1 : 0 }, row["tool_mask"]?.intArray,
                               "batch \(number) row \(index): tool mask")
            }
            let calls = results.map(\.toolCalls).reduce(0, +), failures = results.map(\.toolFailures).reduce(0, +)
            let metrics = try XCTUnwrap(batch["metrics"])
            XCTAssertEqual(Double(calls) / Double(results.count), metrics["tools/call_frequency"]?.number ?? .nan, accuracy: 1e-7)
            XCTAssertEqual(calls == 0 ? 0 : Double(failures) / Double(calls), metrics["tools/failure_frequency"]?.number ?? .nan,
                           accuracy: 1e-7)
        }
    }

    /// TRL's DistillationTrainer runs GRPO's tool loop (its `_tool_call_loop` is GRPOTrainer's without async tools and
    /// log-probs), so the runner a distillation config with tools builds gives these fixtures' episodes exactly; and
    /// with a model that calls the tool every turn, `max_tool_calling_iterations: n` answers n turns and ends the
    /// episode with the (n+1)-th, its call unanswered.
    func testDistillationRunsTRLsToolLoop() throws {
        let model = try LanguageModel(directory: fixtureURL("tool_episodes/model"))
        guard case .array(let prompts)? = fixture["prompts"], case .int(let iterations)? = fixture["max_tool_calling_iterations"],
              case .array(let messages) = prompts[0] else { return XCTFail("malformed fixture") }
        let dataset = PromptDataset(rows: prompts.map { PromptDataset.Row(prompt: $0, promptIds: [1], columns: JSONObject()) },
                                    file: URL(fileURLWithPath: "(fixture)"))
        func runner(cap: Int, maxLength: Int, tools: [JSONValue]) throws -> EpisodeRunner {
            let resolved = try resolve(DistillationConfig.self, "tools: [calculator]\nmax_tool_calling_iterations: \(cap)\n"
                + "max_completion_length: \(maxLength)\nper_device_train_batch_size: 1")
            XCTAssertEqual(resolved.report.errors, [])
            let distillation = try Distillation(model: model, teacher: model, tokenizer: tokenizer, dataset: dataset,
                                                config: resolved.config, toolbox: try Toolbox(tools: [Multiply(definition: tools[0])]))
            return try XCTUnwrap(distillation.rounds.agents).runner
        }
        var definition: [JSONValue] = []
        for (number, batch) in try batches().enumerated() {
            guard case .array(let tools)? = batch["tools"], case .array(let rows)? = batch["rows"],
                  case .int(let maxLength)? = batch["max_completion_length"] else { return XCTFail("malformed fixture") }
            definition = tools
            let (promptIds, results) = try episodes(batch, runner: try runner(cap: iterations, maxLength: maxLength, tools: tools))
            XCTAssertEqual(promptIds, rows.map { $0["prompt_ids"]?.intArray ?? [] }, "batch \(number)")
            XCTAssertEqual(results.map(\.completionIds), rows.map { $0["completion_ids"]?.intArray ?? [] }, "batch \(number)")
            XCTAssertEqual(results.map { $0.modelTokens.map { $0 ? 1 : 0 } }, rows.map { $0["tool_mask"]?.intArray ?? [] }, "batch \(number)")
        }
        let call = tokenizer.encode("<tool_call>\n{\"name\": \"multiply\", \"arguments\": {\"a\": 6, \"b\": 7}}\n</tool_call><|im_end|>")
        for cap in 1...3 {
            let runner = try runner(cap: cap, maxLength: 400, tools: definition)
            let episode = try runner.toolbox.startEpisode(rollout: 0, row: JSONObject([("prompt", prompts[0])]))
            var turns = 0
            let result = try XCTUnwrap(runner.run(promptIds: [try runner.promptIds(messages, episode: episode)], episodes: [episode]) {
                requests, _ in
                turns += requests.count
                return requests.map { _ in call }
            }.first)
            XCTAssertEqual(turns, cap + 1, "max_tool_calling_iterations: \(cap)")
            XCTAssertEqual(result.toolCalls, cap)
            XCTAssertEqual(Self.toolResultRuns(result.modelTokens), cap)
            XCTAssertEqual(Array(result.completionIds.suffix(call.count)), call, "the last turn's call is left unanswered")
        }
    }

    func testLossAndGradientsMatchTRL() throws {
        let model = try LanguageModel(directory: fixtureURL("tool_episodes/model"))
        let weights = Dictionary(uniqueKeysWithValues: model.namedWeights)
        for (_, weight) in model.namedWeights { weight.requiresGrad = true }
        guard case .array(let parameterNames)? = fixture["gradient_parameters"], let temperature = fixture["temperature"]?.number
        else { return XCTFail("malformed fixture") }
        var worstLoss = 0.0, worstGradient = 0.0
        for (number, batch) in try batches().enumerated() {
            let (prompts, results) = try episodes(batch)
            guard case .array(let advantages)? = batch["advantages"], case .array(let cases)? = batch["cases"],
                  case .int(let items)? = batch["num_items_in_batch"], case .int(let maxLength)? = batch["max_completion_length"]
            else { return XCTFail("malformed fixture") }
            XCTAssertEqual(results.map { $0.modelTokens.filter { $0 }.count }.reduce(0, +), items, "num_items_in_batch")
            for lossCase in cases {
                let lossType = try XCTUnwrap(lossCase["loss_type"]?.stringValue)
                let level = try XCTUnwrap(lossCase["importance_sampling_level"]?.stringValue)
                let yaml = """
                    per_device_train_batch_size: 4
                    num_generations: 2
                    gradient_accumulation_steps: 1
                    steps_per_generation: 1
                    beta: 0
                    max_completion_length: \(maxLength)
                    temperature: \(temperature)
                    loss_type: \(lossType)
                    importance_sampling_level: \(level)
                    """
                let resolved = try resolve(GRPOConfig.self, yaml, preset: .trl)
                XCTAssertEqual(resolved.report.errors, [])
                for (_, weight) in model.namedWeights { weight.zeroGrad() }
                let scored = model.sequenceLogProbs(zip(prompts, results).map { $0 + $1.completionIds },
                                                    scoredFrom: prompts.map(\.count), temperature: Float(temperature), withEntropy: true)
                    .keeping(results.flatMap(\.modelTokens))
                let loss = GRPOLoss(config: resolved.config).compute(GRPOLossBatch(
                    scored, advantages: advantages.map { Float($0.number ?? .nan) }, generationBatchTokens: items))
                loss.loss.backward()
                let expected = try XCTUnwrap(lossCase["loss"]?.number)
                let lossError = Swift.abs(Double(loss.loss.item()) - expected) / Swift.max(Swift.abs(expected), 0.01)
                XCTAssertLessThanOrEqual(lossError, 1e-5, "batch \(number) \(lossType)/\(level): loss")
                worstLoss = Swift.max(worstLoss, lossError)
                for name in parameterNames.compactMap(\.stringValue) {
                    guard case .array(let values)? = lossCase["gradients"]?[name] else { return XCTFail("no gradient for \(name)") }
                    let actual = try XCTUnwrap(weights[name]?.grad, "no gradient for \(name)").toArray()
                    let error = scaledError(actual, values.map { Float($0.number ?? .nan) })
                    XCTAssertLessThanOrEqual(error, 1e-5, "batch \(number) \(lossType)/\(level): \(name)")
                    worstGradient = Swift.max(worstGradient, error)
                }
            }
        }
        print(String(format: "  tool episodes: loss rel %.1e, parameter gradients scaled %.1e", worstLoss, worstGradient))
    }

    /// RLOO with tools (a Fledge departure: TRL 1.16's RLOOTrainer has no tools) masks tool-result tokens out of its
    /// loss as GRPO's `tool_mask` does: on the same episodes, TRL's own `RLOOTrainer._compute_loss` with
    /// `completion_mask * tool_mask` (Scripts/reference/make_rloo_tool_fixtures.py) gives the loss, gradients and
    /// metrics that Fledge's RLOO loss gives over the model's tokens.
    func testRLOOLossOnTheMaskedEpisodesMatchesTRLsRLOOLoss() throws {
        let reference = try JSONParser.parse([UInt8](Data(contentsOf: fixtureURL("tool_episodes/rloo_episodes.json"))))
        let model = try LanguageModel(directory: fixtureURL("tool_episodes/model"))
        let weights = Dictionary(uniqueKeysWithValues: model.namedWeights)
        for (_, weight) in model.namedWeights { weight.requiresGrad = true }
        guard case .array(let cases)? = reference["batches"], case .array(let parameterNames)? = reference["gradient_parameters"],
              let temperature = reference["temperature"]?.number else { return XCTFail("malformed fixture") }
        let batches = try batches()
        XCTAssertEqual(cases.count, batches.count)
        for (number, (batch, rlooCase)) in zip(batches, cases).enumerated() {
            let (prompts, results) = try episodes(batch)
            XCTAssert(results.contains { $0.modelTokens.contains(false) }, "batch \(number) has no tool-result tokens")
            guard case .array(let advantages)? = rlooCase["advantages"], case .array(let offsets)? = rlooCase["old_offsets"],
                  case .array(let trlSums)? = rlooCase["sequence_logps"],
                  let low = rlooCase["epsilon_low"]?.number, let high = rlooCase["epsilon_high"]?.number
            else { return XCTFail("malformed fixture") }
            for (_, weight) in model.namedWeights { weight.zeroGrad() }
            let scored = model.sequenceLogProbs(zip(prompts, results).map { $0 + $1.completionIds },
                                                scoredFrom: prompts.map(\.count), temperature: Float(temperature), withEntropy: true)
                .keeping(results.flatMap(\.modelTokens))
            XCTAssertEqual(scored.counts, results.map { $0.modelTokens.filter { $0 }.count })
            // The masked sums (the model's tokens only) are TRL's; the old log-probs are each sum plus the fixture's
            // offset, as TRL's are, so that the ratios are TRL's exactly (a ratio exponentiates a sum of ~100 terms).
            let sums = RLOOAdvantages.sequenceSums(scored.logProbs.toArray().map(Double.init), counts: scored.counts)
            for (row, (sum, trl)) in zip(sums, trlSums.map { $0.number ?? .nan }).enumerated() {
                XCTAssertEqual(sum, trl, accuracy: 1e-5 * Swift.abs(trl), "batch \(number) row \(row): masked log-prob sum")
            }
            let old = zip(sums, offsets).map { Float($0 + ($1.number ?? .nan)) }
            let result = RLOOLoss(epsilonLow: low, epsilonHigh: high).compute(
                logProbs: scored.logProbs, counts: scored.counts, oldSequenceLogProbs: old,
                advantages: advantages.map { Float($0.number ?? .nan) }, entropies: scored.entropy?.toArray())
            result.loss.backward()
            let expected = try XCTUnwrap(rlooCase["loss"]?.number)
            // 1e-4: both sides round (Σ log p − Σ log p_old) in float32 at |Σ| ≈ 500, whose spacing is 3e-5.
            XCTAssertLessThanOrEqual(Swift.abs(Double(result.loss.item()) - expected) / Swift.max(Swift.abs(expected), 0.01), 1e-4,
                                     "batch \(number): loss \(result.loss.item()) vs TRL's \(expected)")
            for name in ["clip_ratio/low_mean", "clip_ratio/low_min", "clip_ratio/high_mean", "clip_ratio/high_max",
                         "clip_ratio/region_mean", "entropy"] {
                let trl = try XCTUnwrap(rlooCase["metrics"]?[name]?.number, name)
                XCTAssertEqual(try XCTUnwrap(result.metrics[name]), trl, accuracy: 1e-5 * Swift.max(1, Swift.abs(trl)), "batch \(number): \(name)")
            }
            for name in parameterNames.compactMap(\.stringValue) {
                guard case .array(let values)? = rlooCase["gradients"]?[name] else { return XCTFail("no gradient for \(name)") }
                let actual = try XCTUnwrap(weights[name]?.grad, "no gradient for \(name)").toArray()
                XCTAssertLessThanOrEqual(scaledError(actual, values.map { Float($0.number ?? .nan) }), 1e-5, "batch \(number): \(name)")
            }
        }
    }
}

private extension JSONValue {
    var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    var intArray: [Int]? {
        guard case .array(let items) = self else { return nil }
        return items.compactMap { if case .int(let value) = $0 { value } else { nil } }
    }
}
