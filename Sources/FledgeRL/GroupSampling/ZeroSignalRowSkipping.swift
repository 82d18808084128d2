/// Which completions of a micro-batch GRPO and RLOO leave out of the training forward and backward
/// because they cannot change the update (Fledge's `skip_zero_signal_rows`; TRL runs every row).
///
/// A completion out of the loss (no scored tokens) never contributes. A completion whose advantage
/// is exactly 0 contributes exactly zero policy gradient under every loss type, since every policy
/// term is a multiple of the advantage. Skipped rows still count in every normaliser, so the update
/// is the one of running them.
public enum ZeroSignalRowSkipping: String, ConfigChoice, Sendable {
    /// Skip a row only where that leaves the update exactly as it is: rows out of the loss, and
    /// zero-advantage rows when the loss has no other term — GRPO with `beta: 0` and
    /// `top_entropy_quantile: 1` (the quantile reads every row's entropies), and RLOO always (its KL
    /// is in the reward, hence in the advantage). Nothing is skipped while LoRA dropout is on
    /// (`lora_dropout` > 0), since the rows run draw the dropout masks in turn.
    case exact
    /// Also skip GRPO's zero-advantage rows when `beta` ≠ 0, dropping their KL term: a departure
    /// from TRL that changes the update (those rows are no longer pulled towards the reference),
    /// and skip with LoRA dropout on (the other rows then draw different dropout masks). Rows are
    /// still run when `top_entropy_quantile` < 1.
    case always
    /// Run every row, as TRL does.
    case never
}
