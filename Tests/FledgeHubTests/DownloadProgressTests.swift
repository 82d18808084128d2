import XCTest
@testable import FledgeHub

final class DownloadProgressTests: XCTestCase {
    func testSizesInKilobytesMegabytesAndGigabytes() {
        XCTAssertEqual(DownloadProgress.size(459), "1 KB")
        XCTAssertEqual(DownloadProgress.size(2_225_648), "2.1 MB")
        XCTAssertEqual(DownloadProgress.size(988_097_824), "942.3 MB")
        XCTAssertEqual(DownloadProgress.size(14_496_078_512), "13.50 GB")
    }
}
