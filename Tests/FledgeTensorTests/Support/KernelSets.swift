import XCTest
@testable import FledgeTensor

extension XCTestCase {
    /// Skips the test unless `kernels` runs in this process, naming the instructions it needs.
    func skipUnlessAvailable(_ kernels: KernelSet) throws {
        try XCTSkipUnless(kernels.isAvailable, "the \(kernels) kernels need \(kernels.requiredFeatures) (missing on this CPU, or disabled by FLEDGE_DISABLE_AVX512/FLEDGE_DISABLE_AVX2)")
    }
}
