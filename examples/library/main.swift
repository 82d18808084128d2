// A complete program that uses Fledge as a library: GRPO with LoRA on the demo's arithmetic model,
// with a reward function written in Swift. Run it from the repository root:
//
//     swift run -c release fledge-library-example
import Foundation
import FledgeLM
import FledgeRL

/// A reward in Swift: 1 for the right sum, 0.2 for an answer within 2 of it, else 0.
struct CloseEnoughReward: RewardFunction {
    let name = "close_enough"

    func score(_ samples: [RewardSample]) throws -> [Double?] {
        samples.map { sample in
            guard case .string(let expected)? = sample.columns["answer"], let target = Int(expected) else { return nil }
            guard let answer = Int(sample.completion) else { return 0 }
            return answer == target ? 1 : abs(answer - target) <= 2 ? 0.2 : 0
        }
    }
}

// The config, as a file would hold it (TRL field names, Unsloth's defaults), checked as
// `fledge config check` checks it.
let document = try ConfigDocument(yaml: """
    model_name_or_path: examples/demo/model
    output_dir: runs/library-example
    use_peft: true
    lora_target_modules: all-linear
    learning_rate: 0.004
    per_device_train_batch_size: 64
    gradient_accumulation_steps: 1
    num_generations: 8
    max_completion_length: 6
    max_steps: 40
    logging_steps: 10
    gradient_checkpointing: false
    """, source: "main.swift")
let resolution = ConfigResolver.resolve(GRPOConfig.self, document)
guard resolution.report.isUsable else { fatalError(ConfigReportRendering.text(of: resolution)) }
let config = resolution.config

// Prompts with the columns the reward reads, encoded by the model's tokenizer.
let tokenizer = try TrainingModels.tokenizer(config.run)
let rows = ArithmeticTask().problems(count: 500, seed: 1).map { problem in
    PromptDataset.Row(prompt: .string(problem.prompt), promptIds: tokenizer.encode(problem.prompt, addSpecialTokens: true),
                      columns: JSONObject([("answer", .string(problem.answer))]))
}
let dataset = PromptDataset(rows: rows, file: URL(fileURLWithPath: "(generated)"))

// GRPO as `fledge grpo` builds it from the config (the model with LoRA adapters, the reference
// policy), with the Swift reward and these prompts, trained by the one trainer loop.
let grpo = try GRPO.prepare(config, rewards: [CloseEnoughReward()], dataset: dataset)
let outcome = try grpo.trainer().train()
for record in outcome.state.logHistory {
    let reward = record.values.first { $0.name == "reward" }?.value ?? .nan
    print("step \(record.step): reward \(String(format: "%.3f", reward))")
}
print("adapter and metrics in \(config.training.outputDir ?? "trainer_output")")
