/// TRL's SFT `loss_type`: what each trained token adds to the loss before the sum over the step's
/// trained tokens is divided by their count.
public enum SFTLossType: String, ConfigChoice, Sendable {
    /// The negative log-likelihood `−log p`.
    case nll
    /// Dynamic Fine-Tuning (arXiv 2508.05629): `−log p · p`, the probability detached.
    case dft
}
