import Foundation
import FledgeLM
import FuzzSupport

/// A PEFT adapter directory's adapter_config.json (rank, alpha, targets, DoRA, rsLoRA,
/// modules_to_save …), read as `loadAdapter` reads it before touching any weight.
func fuzzAdapterConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    ScratchDirectory.write(fuzzInput(data, size), to: "adapter_config.json")
    _ = try? PretrainedModel.adapterTrainsClassifierHead(ScratchDirectory.url)
    return 0
}

runFuzzer(fuzzAdapterConfig)
