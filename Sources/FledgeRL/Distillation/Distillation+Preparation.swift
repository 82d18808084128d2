import FledgeLM

extension Distillation: ConfiguredAlgorithm {
    /// Distillation as `config` describes it (see ``ConfiguredAlgorithm/prepare(_:communicator:progress:)``),
    /// for this process of `communicator`: the student (LoRA or full), its tokenizer, the prompts, and the frozen teacher
    /// from `teacher_model_name_or_path` at `teacher_model_init_kwargs`' `revision` or `teacher_model_revision` (its linear weights quantized as they load with
    /// `load_in_4bit` / `load_in_8bit`, like the student's base), and the student's tools (`tools`).
    public static func prepare(_ config: DistillationConfig, communicator: any Communicator = SingleProcess(),
                               progress: (String) -> Void = { _ in }) throws -> PreparedTraining<Distillation> {
        guard let teacherPath = config.teacherModelNameOrPath else {
            throw TrainingError.invalidSetting("teacher_model_name_or_path is not set; give the teacher's model directory, "
                + ".gguf file or Hub id (it must share the student's vocabulary)")
        }
        let model = try TrainingModels.load(config.run, training: config.training)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        var teacherRun = RunArguments()
        teacherRun.modelNameOrPath = teacherPath
        do {
            teacherRun.modelRevision = try config.teacherRevision() ?? teacherRun.modelRevision
        } catch {
            throw TrainingError.invalidSetting(error.description)
        }
        let teacherDirectory = try TrainingModels.modelDirectory(teacherRun)
        guard let teacher = try PretrainedModel.load(directory: teacherDirectory, quantization: TrainingModels.quantization(config.run))
            as? LanguageModel else {
            throw TrainingError.invalidSetting("teacher_model_name_or_path \(teacherDirectory.path) is a sequence classifier; "
                + "the teacher must be a causal language model (…ForCausalLM)")
        }
        let variables = config.chatTemplateKwargs?.jsonObject ?? JSONObject()
        let dataset = try PromptDataset(split: config.run.trainingSplit(), tokenizer: tokenizer, chatTemplateVariables: variables)
        progress("\(dataset.rows.count) prompts from \(dataset.source); teacher \(teacherPath) "
            + "(\(teacher.config.layers) layers, hidden \(teacher.config.hiddenSize))")
        let distillation = try Distillation(model: model, teacher: teacher, tokenizer: tokenizer, dataset: dataset, config: config,
                                            toolbox: try config.agent.toolbox(), communicator: communicator)
        return PreparedTraining(algorithm: distillation, model: model, arguments: config.training)
    }
}
