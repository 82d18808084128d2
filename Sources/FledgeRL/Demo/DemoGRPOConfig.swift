/// The GRPO settings the demos (``GRPODemo``, ``AgentDemo``) run with on top of Unsloth's defaults, as a
/// config file would hold them (TRL field names): LoRA r 16 on every linear layer, the `answer` reward,
/// eight completions per prompt, one optimizer step per generation round.
enum DemoGRPOConfig {
    /// The YAML of a demo run of `steps` steps from `modelDirectory` into `outputDirectory` with `seed`,
    /// `batchSize` completions per step of up to `completionLength` tokens; `tools`, when given, adds the
    /// tool lines after the reward.
    static func yaml(modelDirectory: String, outputDirectory: String, steps: Int, seed: Int, batchSize: Int,
                     completionLength: Int, tools: String? = nil) -> String {
        """
        defaults: unsloth
        model_name_or_path: \(modelDirectory)
        output_dir: \(outputDirectory)
        use_peft: true
        lora_r: 16
        lora_alpha: 32
        lora_dropout: 0.0
        lora_target_modules: all-linear
        reward_funcs: [answer]\(tools.map { "\n" + $0 } ?? "")
        learning_rate: 0.004
        max_steps: \(steps)
        per_device_train_batch_size: \(batchSize)
        gradient_accumulation_steps: 1
        num_generations: 8
        max_completion_length: \(completionLength)
        logging_steps: 1
        save_steps: \(steps)
        gradient_checkpointing: false
        seed: \(seed)
        """
    }
}
