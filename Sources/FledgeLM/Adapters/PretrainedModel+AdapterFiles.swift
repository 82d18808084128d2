import Foundation
import FledgeNN
import FledgeTensor

extension PretrainedModel {
    /// The file name of an adapter's tensors in a PEFT adapter directory.
    static let adapterWeightsFileName = "adapter_model.safetensors"
    /// The prefix of PEFT's saved keys: the `PeftModel`'s `base_model.model.` before the module name.
    static let peftKeyPrefix = "base_model.model."

    /// Writes the attached adapters as PEFT's `save_pretrained` does, into `directory` (created
    /// if needed): `adapter_config.json` and `adapter_model.safetensors` with float32 tensors
    /// `base_model.model.<module>.lora_A.weight` `[r, in]` and `….lora_B.weight` `[out, r]` (and, for
    /// DoRA, `….lora_magnitude_vector` `[out]`); a sequence classifier whose `score` head trains beside
    /// the adapters (a reward model) also gets `base_model.model.score.weight` and PEFT's `SEQ_CLS`
    /// `modules_to_save`.
    /// `PeftModel.from_pretrained(base, directory)` loads it onto the same base model.
    public func saveAdapter(to directory: URL) throws {
        guard let options = loraOptions else { throw AdapterError.noAdapters(operation: "saveAdapter") }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var tensors: [(name: String, tensor: Tensor)] = []
        for (module, adapter) in loraModules {
            tensors.append((Self.peftKeyPrefix + module + ".lora_A.weight", adapter.a))
            tensors.append((Self.peftKeyPrefix + module + ".lora_B.weight", adapter.b))
            if let magnitude = adapter.magnitude { tensors.append((Self.peftKeyPrefix + module + ".lora_magnitude_vector", magnitude)) }
        }
        let head = trainedHead
        if let head { tensors.append((Self.peftKeyPrefix + Self.headWeightName, head)) }
        try SafeTensorsWriter.write(tensors, metadata: ["format": "pt"],
                                    to: directory.appendingPathComponent(Self.adapterWeightsFileName))
        let baseModel = FileManager.default.fileExists(atPath: self.directory.path) ? self.directory.path : nil
        let json = PEFTAdapterConfig.json(options, adaptable: LoRAOptions.shortNames(of: namedLinears.map(\.0)), baseModel: baseModel,
                                          taskType: peftTaskType, modulesToSave: head == nil ? nil : PEFTAdapterConfig.classifierHeadModules)
        try AtomicFile.write(Data((json + "\n").utf8), to: directory.appendingPathComponent(PEFTAdapterConfig.fileName))
    }

    /// Loads a PEFT LoRA adapter directory (`adapter_config.json` and `adapter_model.safetensors`):
    /// without adapters, attaches them as the config says (freezing the base); with adapters,
    /// replaces their values (the config's rank and scaling must then agree with them). Every
    /// tensor must belong to an adapted module and have its shape, and every adapted module
    /// needs its two tensors (three with DoRA); otherwise the error names the key and the shapes, and the
    /// model is left as it was. An adapter whose `modules_to_save` holds a classifier head (PEFT's
    /// `SEQ_CLS`) loads only into a sequence classifier, whose `score` weight it replaces.
    public func loadAdapter(from directory: URL) throws {
        let configPath = directory.appendingPathComponent(PEFTAdapterConfig.fileName).path
        let (options, modulesToSave) = try PEFTAdapterConfig.read(configPath)
        let head = modulesToSave.isEmpty ? nil : (self as? SequenceClassifier)?.score.weight
        if !modulesToSave.isEmpty && head == nil {
            throw AdapterError.invalidConfig(file: configPath, field: "modules_to_save",
                                             problem: "names a classifier head, and the model is a causal language model; load the "
                                                 + "adapter onto a sequence classifier (a reward model's base)")
        }
        let weightsURL = directory.appendingPathComponent(Self.adapterWeightsFileName)
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            throw AdapterError.missingFile(path: weightsURL.path,
                                           hint: "the adapter's tensors are missing; PEFT saves them beside adapter_config.json")
        }
        let file = try SafeTensorsFile(url: weightsURL)
        let modules: [(String, Linear)]
        if let attached = loraOptions {
            guard attached.useDoRA == options.useDoRA else {
                throw AdapterError.invalidConfig(
                    file: configPath, field: "use_dora", problem: "is \(options.useDoRA), and the attached adapters are "
                        + (attached.useDoRA ? "DoRA" : "plain LoRA") + "; load it into a fresh model")
            }
            guard attached.scale == options.scale else {
                throw AdapterError.invalidConfig(
                    file: configPath, field: "lora_alpha",
                    problem: "gives the scale \(options.scale) (lora_alpha \(options.alpha), r \(options.r), use_rslora "
                        + "\(options.useRSLoRA)), and the attached adapters use \(attached.scale); load it into a fresh model")
            }
            let adapted = Set(loraModules.map(\.0))
            modules = namedLinears.filter { adapted.contains($0.0) }
        } else {
            modules = try selectedLinears(options)
        }
        let values = try adapterTensors(in: file, for: modules, rank: loraOptions?.r ?? options.r, dora: options.useDoRA,
                                        head: head)
        if loraOptions == nil { attachLoRA(options, to: modules) }
        if let head, let classifier = self as? SequenceClassifier {
            // In place, so that a resumed optimizer keeps its parameter; a weight still mapped from the
            // checkpoint file is replaced instead of written through.
            let trained = try file.tensor(Self.peftKeyPrefix + Self.headWeightName)
            if head.isMemoryMapped { classifier.score.weight = trained } else { head.assign(trained) }
        }
        for ((_, linear), (a, b, magnitude)) in zip(modules, values) {
            let adapter = linear.adapter as! LoRAAdapter
            adapter.a.assign(a)
            adapter.b.assign(b)
            if let magnitude { adapter.magnitude!.assign(magnitude) }
        }
    }

    /// A and B (and the DoRA magnitude when `dora`) of each module from `file`, after checking that
    /// the file holds exactly those tensors with the shapes of rank `rank` (and the classifier head's
    /// weight, when `head` is given).
    private func adapterTensors(in file: SafeTensorsFile, for modules: [(String, Linear)], rank: Int,
                                dora: Bool, head: Tensor?) throws -> [(Tensor, Tensor, Tensor?)] {
        let path = file.url.path
        var expected: [String: [Int]] = [:]
        if let head { expected[Self.peftKeyPrefix + Self.headWeightName] = head.shape }
        for (name, linear) in modules {
            expected[Self.peftKeyPrefix + name + ".lora_A.weight"] = [rank, linear.inFeatures]
            expected[Self.peftKeyPrefix + name + ".lora_B.weight"] = [linear.outFeatures, rank]
            if dora { expected[Self.peftKeyPrefix + name + ".lora_magnitude_vector"] = [linear.outFeatures] }
        }
        for key in file.names where expected[key] == nil {
            throw AdapterError.invalidTensor(
                file: path, key: key, problem: "belongs to no adapted module; the adapted modules are "
                    + modules.map(\.0).joined(separator: ", ") + " (check that adapter_config.json's target_modules and "
                    + "the base model match the adapter)")
        }
        for key in expected.keys.sorted() {
            guard let info = file.info(key) else {
                throw AdapterError.invalidTensor(file: path, key: key, problem: "is missing; every adapted module needs lora_A and lora_B"
                    + (dora ? " (and lora_magnitude_vector with use_dora)" : "") + ", and a classifier head in modules_to_save its weight")
            }
            guard info.shape == expected[key]! else {
                throw AdapterError.invalidTensor(
                    file: path, key: key, problem: "has shape \(info.shape), and the model needs \(expected[key]!) "
                        + "(r = \(rank)); the adapter was trained on another base model or with another rank")
            }
        }
        return try modules.map { name, _ in
            let prefix = Self.peftKeyPrefix + name
            return (try file.tensor(prefix + ".lora_A.weight"), try file.tensor(prefix + ".lora_B.weight"),
                    dora ? try file.tensor(prefix + ".lora_magnitude_vector") : nil)
        }
    }

    /// Whether the PEFT adapter directory trains a sequence classifier's head beside its adapters
    /// (`modules_to_save`, PEFT's `SEQ_CLS` task: a reward model), so that it loads onto a sequence
    /// classifier; throws as ``loadAdapter(from:)`` does for a config it cannot read.
    public static func adapterTrainsClassifierHead(_ directory: URL) throws -> Bool {
        !(try PEFTAdapterConfig.read(directory.appendingPathComponent(PEFTAdapterConfig.fileName).path).modulesToSave.isEmpty)
    }

    /// The checkpoint name of a sequence classifier's head weight.
    static let headWeightName = "score.weight"

    /// The weight of a sequence classifier's `score` head when it trains (a reward or value model with
    /// LoRA adapters); nil otherwise.
    var trainedHead: Tensor? {
        guard let classifier = self as? SequenceClassifier, classifier.score.weight.requiresGrad else { return nil }
        return classifier.score.weight
    }
}
