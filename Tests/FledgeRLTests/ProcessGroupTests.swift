import XCTest
@testable import FledgeRL

/// Joining the processes of a run, and the errors a misconfigured launch gets (no MPI needed).
final class ProcessGroupTests: XCTestCase {
    func testAProcessNoLauncherStartedRunsAlone() throws {
        let communicator = try ProcessGroup.join(environment: ["WORLD_SIZE": "1"])
        XCTAssert(communicator is SingleProcess)
        XCTAssertEqual(communicator.rank, 0)
        XCTAssertEqual(communicator.size, 1)
        XCTAssertEqual(try communicator.allGather([1.5, 2] as [Double], purpose: "test"), [[1.5, 2]])
        XCTAssertNil(ProcessGroup.launcherRank(environment: [:]))
        XCTAssertEqual(ProcessGroup.launcherRank(environment: ["OMPI_COMM_WORLD_RANK": "3"]), 3)
    }

    func testWorldSizeWithoutALauncherIsRefused() {
        XCTAssertThrowsError(try ProcessGroup.join(environment: ["WORLD_SIZE": "2"])) { error in
            XCTAssertEqual("\(error)", "WORLD_SIZE is 2, but this process was not started by an MPI launcher; launch with "
                + "`mpirun -np 2 fledge …`, or unset WORLD_SIZE")
        }
    }

    func testAMissingMPILibraryIsNamed() {
        let launched = ["OMPI_COMM_WORLD_SIZE": "2", "FLEDGE_MPI_LIBRARY": "/nonexistent/libmpi.so.40"]
        XCTAssertThrowsError(try ProcessGroup.join(environment: launched)) { error in
            let text = "\(error)"
            XCTAssert(text.contains("/nonexistent/libmpi.so.40 could not be loaded") && text.contains("FLEDGE_MPI_LIBRARY"), text)
        }
    }

    func testALibraryThatIsNotOpenMPIIsRefused() {
        let launched = ["OMPI_COMM_WORLD_SIZE": "2", "FLEDGE_MPI_LIBRARY": "libc.so.6"]
        XCTAssertThrowsError(try ProcessGroup.join(environment: launched)) { error in
            XCTAssert("\(error)".contains("libc.so.6 has no symbol MPI_Initialized: Fledge needs Open MPI's libmpi"), "\(error)")
        }
    }

    func testBadTimeoutAndBucketSettingsAreNamed() {
        XCTAssertThrowsError(try MPICommunicator(environment: ["FLEDGE_MPI_TIMEOUT": "soon"])) { error in
            XCTAssert("\(error)".contains("FLEDGE_MPI_TIMEOUT is 'soon'"), "\(error)")
        }
        XCTAssertThrowsError(try GradientAverager(communicator: SingleProcess(), environment: ["FLEDGE_BUCKET_MB": "0"])) { error in
            XCTAssert("\(error)".contains("FLEDGE_BUCKET_MB is '0'"), "\(error)")
        }
        XCTAssertEqual(try GradientAverager(communicator: SingleProcess(), environment: ["FLEDGE_BUCKET_MB": "1"]).bucketCapacity,
                       262_144)
    }
}
