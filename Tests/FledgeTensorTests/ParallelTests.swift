import XCTest
@testable import FledgeTensor

/// How many threads the kernels use: `FLEDGE_NUM_THREADS`, else the cores shared among the
/// processes an MPI launcher started on the machine.
final class ParallelTests: XCTestCase {
    func testWorkerCount() {
        XCTAssertEqual(Parallel.workerCount(environment: [:], processors: 8), 8)
        XCTAssertEqual(Parallel.workerCount(environment: ["FLEDGE_NUM_THREADS": "3"], processors: 8), 3)
        XCTAssertEqual(Parallel.workerCount(environment: ["OMPI_COMM_WORLD_LOCAL_SIZE": "2"], processors: 8), 4)
        XCTAssertEqual(Parallel.workerCount(environment: ["MPI_LOCALNRANKS": "3"], processors: 2), 1)
        XCTAssertEqual(Parallel.workerCount(environment: ["OMPI_COMM_WORLD_LOCAL_SIZE": "2", "FLEDGE_NUM_THREADS": "2"],
                                            processors: 2), 2)
    }
}
