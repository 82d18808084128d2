import Foundation
import FledgeLM
import FledgeTensor

/// TR-DPO's reference-model syncing (arXiv 2404.09656) as TRL's `sync_ref_model` fields ask for it:
/// the fields DPO, KTO, GRPO and RLOO share.
public struct ReferenceSyncArguments: ConfigFieldTable, Equatable, Sendable {
    /// Every `ref_model_sync_steps` optimizer steps, move the reference model toward the policy:
    /// `ref ← α · policy + (1 − α) · ref`. Full fine-tuning only (with LoRA the reference is the model
    /// with its adapters off, so there is no separate model to move, as in TRL).
    public var syncRefModel = false
    /// α of the update.
    public var refModelMixupAlpha = 0.6
    /// Optimizer steps between updates.
    public var refModelSyncSteps = 512

    public init() {}

    /// The fields, by TRL name.
    public static var fields: [ConfigField<ReferenceSyncArguments>] {
        [
            ConfigField("sync_ref_model", \.syncRefModel),
            ConfigField("ref_model_mixup_alpha", \.refModelMixupAlpha,
                        .fraction.because("the weight of the policy in each update of the reference")),
            ConfigField("ref_model_sync_steps", \.refModelSyncSteps, .steps),
        ]
    }
}

extension ConfigCheck {
    /// `sync_ref_model` needs a separate reference model to move: not with LoRA (TRL raises
    /// NotImplementedError), not without a KL term (`beta` 0: GRPO and RLOO load no reference), not with
    /// reference log-probs computed once before training (DPO's and KTO's `precompute_ref_log_probs`).
    static func referenceSync(_ path: WritableKeyPath<Config, ReferenceSyncArguments>, beta: KeyPath<Config, Double>? = nil,
                              precomputed: KeyPath<Config, Bool>? = nil) -> ConfigCheck {
        ConfigCheck { resolution in
            let config = resolution.config
            guard config[keyPath: path].syncRefModel else { return }
            let field = path.appending(path: \.syncRefModel)
            if config.run.usePeft {
                resolution.fail(field, "with LoRA (use_peft) the reference policy is the model with its adapters off, so "
                    + "there is no separate reference model to move (TRL refuses it too); train fully or set sync_ref_model: false")
            } else if let beta, config[keyPath: beta] == 0 {
                resolution.fail(field, "beta is 0, so no reference model is used or loaded and there is nothing to move; "
                    + "set beta above 0 or sync_ref_model: false")
            } else if let precomputed, config[keyPath: precomputed] {
                resolution.fail(field, "precompute_ref_log_probs computes the reference once, before training, so a "
                    + "reference that moves would make them stale; turn one of them off")
            }
        }
    }
}

/// Moves a separate (frozen) reference model toward the policy every `ref_model_sync_steps` steps,
/// and keeps the moved reference in checkpoints (`reference_model.safetensors`) so that a resumed run
/// continues from it exactly — TRL does not save it, so its resumed runs restart from the initial
/// reference; Fledge's do not.
public final class ReferenceSync {
    static let fileName = "reference_model.safetensors"

    let policy: LanguageModel
    let reference: LanguageModel
    let arguments: ReferenceSyncArguments

    /// The syncing of `reference` for `policy`, or nil when `arguments` do not ask for it. Throws when
    /// they do and the reference is not a separate model.
    init?(policy: LanguageModel, reference: ReferencePolicy?, arguments: ReferenceSyncArguments) throws {
        guard arguments.syncRefModel else { return nil }
        guard case .frozen(let model)? = reference else {
            throw TrainingError.invalidSetting("sync_ref_model moves a separate reference model, and this run has none "
                + "(LoRA's reference is the model with its adapters off, and beta 0 loads no reference); set sync_ref_model: false")
        }
        self.policy = policy
        self.reference = model
        self.arguments = arguments
    }

    /// After optimizer step `globalStep`: the soft update, when the step is a multiple of `ref_model_sync_steps`.
    func stepDidFinish(globalStep: Int) throws {
        guard globalStep % arguments.refModelSyncSteps == 0 else { return }
        try reference.blendWeights(toward: policy, alpha: Float(arguments.refModelMixupAlpha))
    }

    /// Writes the reference's weights into a checkpoint directory.
    func save(to directory: URL) throws {
        try SafeTensorsWriter.write(reference.namedWeights.map { (name: $0.0, tensor: $0.1) },
                                    to: directory.appendingPathComponent(Self.fileName))
    }

    /// Reads them back from a checkpoint; throws naming the file when it is missing (a checkpoint of a
    /// run without `sync_ref_model`, whose reference never moved, cannot be told apart from a stale one).
    func load(from directory: URL) throws {
        let url = directory.appendingPathComponent(Self.fileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TrainingError.checkpoint(path: url.path, problem: "is missing: the checkpoint was saved by a run without "
                + "sync_ref_model, so the moved reference model it needs is not there; resume without sync_ref_model")
        }
        try reference.replaceWeights(from: try SafeTensorsFile(url: url))
    }
}

/// An algorithm that may sync a separate reference model toward its policy (DPO, KTO, GRPO, RLOO):
/// the trainer's step and checkpoint hooks go to its ``ReferenceSync``.
public protocol ReferenceSyncing: TrainingAlgorithm {
    /// The syncing `sync_ref_model` asks for, or nil.
    var referenceSync: ReferenceSync? { get }
}

extension ReferenceSyncing {
    public func stepDidFinish(globalStep: Int) throws { try referenceSync?.stepDidFinish(globalStep: globalStep) }

    public func saveState(to directory: URL) throws { try referenceSync?.save(to: directory) }

    public func loadState(from directory: URL) throws { try referenceSync?.load(from: directory) }
}
