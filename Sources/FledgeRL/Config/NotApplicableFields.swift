/// TRL and transformers fields that Fledge accepts without using them, so that a TRL config ports
/// unchanged. Each is reported as a note that says why it does not apply.
enum NotApplicableFields {
    /// The reason a field does not apply, by field name.
    static func reason(for name: String) -> String? {
        groups.first { $0.names.contains(name) }?.reason
    }

    private static let groups: [(names: Set<String>, reason: String)] = [
        (
            ["pad_token"],
            "not applicable: Fledge pads batches itself and masks the padding out of attention and the loss, so "
                + "the pad token never reaches the model"
        ),
        (
            ["label_smoothing_factor"],
            "ignored, as TRL ignores it outside SFT: transformers' label smoother runs only in Trainer.compute_loss, "
                + "which TRL's DPO, KTO, GRPO, RLOO, PPO, reward and distillation trainers replace with their own losses "
                + "(DPO's own smoothing is label_smoothing; SFT applies it)"
        ),
        (
            ["neftune_noise_alpha"],
            "ignored, as TRL ignores it in PPO: transformers hooks NEFTune onto the embeddings in Trainer.train, "
                + "which TRL 1.12's PPOTrainer replaces with its own train loop, so no PPO forward is ever noised "
                + "(every other trainer implements it)"
        ),
        (
            ["sft_model_path"],
            "ignored, as TRL ignores it: PPOTrainer never reads it (the policy is model_name_or_path)"
        ),
        (
            ["full_determinism"],
            "not applicable: Fledge is always deterministic: the same config, seed, thread count (FLEDGE_NUM_THREADS) "
                + "and machine give the same numbers bit for bit, since every kernel reduces in a fixed order and "
                + "threads split work by index; a resumed run continues exactly as an uninterrupted one"
        ),
        (
            [
                "bf16_full_eval", "fp16_full_eval", "tf32", "use_cpu", "torch_compile",
                "torch_compile_backend", "torch_compile_mode", "torch_empty_cache_steps", "use_liger_kernel",
                "liger_kernel_config", "cast_lm_head_to_fp32", "activation_checkpointing",
                "activation_checkpointing_kwargs", "activation_offloading", "gradient_checkpointing_kwargs",
                "enable_jit_checkpoint", "pad_to_multiple_of", "padding_free", "use_cache",
                "bnb_4bit_quant_storage",
                "attn_implementation", "dtype", "skip_memory_metrics", "optim_args", "optim_target_modules",
                "include_num_input_tokens_seen", "include_tokens_per_second", "disable_dropout",
                "router_aux_loss_coef",
            ],
            "not applicable: Fledge computes in float32 on the CPU with its own kernels and models"
        ),
        (
            [
                "accelerator_config", "ddp_backend", "ddp_broadcast_buffers", "ddp_bucket_cap_mb",
                "ddp_find_unused_parameters", "ddp_static_graph", "ddp_timeout", "deepspeed", "fsdp",
                "fsdp_config", "parallelism_config", "local_rank", "ds3_gather_for_generation",
                "average_tokens_across_devices", "log_on_each_node", "save_on_each_node", "log_level_replica",
                "dataloader_drop_last", "dataloader_in_order", "dataloader_multiprocessing_context",
                "dataloader_num_workers", "dataloader_persistent_workers", "dataloader_pin_memory",
                "dataloader_prefetch_factor", "num_processes", "accelerate_config", "eval_use_gather_object",
            ],
            "not applicable: Fledge trains in one process (pass --world-size to check a multi-process geometry)"
        ),
        (
            [
                "use_vllm", "vllm_mode", "vllm_model_impl", "vllm_gpu_memory_utilization",
                "vllm_tensor_parallel_size", "vllm_max_model_length", "vllm_enable_sleep_mode",
                "vllm_structured_outputs_regex", "vllm_server_base_url", "vllm_server_host", "vllm_server_port",
                "vllm_server_timeout", "vllm_group_port", "vllm_importance_sampling_correction",
                "vllm_importance_sampling_mode", "vllm_importance_sampling_clip_max",
                "vllm_importance_sampling_clip_min", "vllm_importance_sampling_cap",
                "use_transformers_continuous_batching", "use_transformers_paged",
                "transformers_continuous_batching_config", "cache_implementation",
            ],
            "not applicable: Fledge samples with its own KV-cache generator, so there is no vLLM and no "
                + "sampler/trainer mismatch to correct"
        ),
        (
            [
                "report_to", "run_name", "project", "trackio_bucket_id", "trackio_space_id",
                "trackio_static_space_id", "push_to_hub", "hub_model_id", "hub_strategy", "hub_token",
                "hub_private_repo", "hub_always_push", "hub_revision", "log_completions_hub_repo", "log_level",
                "disable_tqdm", "debug", "logging_dir", "trust_remote_code", "model_init_kwargs",
                "dataset_streaming", "streaming", "datasets", "test_split_size",
                "dataset_num_proc", "dataset_kwargs", "env", "ignore_bias_buffers", "remove_unused_columns",
                "label_names", "length_column_name", "include_for_metrics", "batch_eval_metrics",
                "eval_do_concat_batches", "prediction_loss_only", "metric_for_best_model", "greater_is_better",
                "load_best_model_at_end", "log_multimodal",
                "log_unique_prompts", "num_sample_generations", "do_train", "do_eval", "do_predict",
                "restore_callback_states_from_checkpoint", "ignore_data_skip", "lora_task_type",
            ],
            "not applicable: Fledge logs to metrics.jsonl and has no Hub or tracker integration for uploading runs"
        ),
        (
            [
                "world_size", "batch_size", "local_batch_size", "micro_batch_size", "mini_batch_size",
                "local_mini_batch_size", "num_total_batches",
            ],
            "not applicable: the trainer computes it from the batch settings and replaces any value given"
        ),
    ]
}
