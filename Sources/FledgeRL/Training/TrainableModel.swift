import Foundation
import FledgeNN

/// The model side of training, as the ``Trainer`` sees it: the parameters to update, and how the
/// trained weights go into a checkpoint and come back from one.
public protocol TrainableModel: RandomStateCarrying {
    /// The parameters the optimizer updates, in a fixed order (LoRA matrices, or every weight).
    var trainableParameters: [Parameter] { get }
    /// Writes the trained weights into `directory` (which exists): a PEFT adapter
    /// (`adapter_config.json`, `adapter_model.safetensors`) or a full model directory. Checkpoints
    /// must keep float32 so that a resumed run continues from exactly the same weights.
    func saveTrainedWeights(to directory: URL) throws
    /// Replaces the trainable weights with those saved by `saveTrainedWeights(to:)` in `directory`.
    func loadTrainedWeights(from directory: URL) throws
}
