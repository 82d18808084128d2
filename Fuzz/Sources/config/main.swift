import Foundation
import FledgeRL
import FuzzSupport

/// A config file (YAML or JSON) as `fledge config check` and the training commands read it: parsed,
/// resolved for its trainer with every check, and reported as text and JSON.
func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    // The file is read as UTF-8 text; other bytes stop at "cannot read the file".
    guard let text = String(validating: fuzzInput(data, size), as: UTF8.self),
          let document = try? ConfigDocument(yaml: text, source: "config.yaml") else { return 0 }
    let resolved = ConfigResolver.resolve(document, options: ConfigOptions(worldSize: 2))
    _ = ConfigReportRendering.text(of: resolved)
    _ = ConfigReportRendering.json(of: resolved)
    return 0
}

runFuzzer(fuzzConfig)
