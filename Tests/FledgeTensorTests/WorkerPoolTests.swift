import Foundation
import Synchronization
import XCTest
@testable import FledgeTensor

/// The persistent worker pool behind `Parallel.forRanges`: every index of a region runs exactly
/// once whatever the thread count, region size, waiting mode or nesting, and idle helpers go to
/// sleep rather than spin.
final class WorkerPoolTests: XCTestCase {
    /// Runs `count` indices on `pool` and returns how many times each ran.
    private func timesRun(_ pool: WorkerPool, _ count: Int) -> [Int] {
        let runs = Mutex([Int](repeating: 0, count: count))
        XCTAssertTrue(pool.run(count) { index in runs.withLock { $0[index] += 1 } })
        return runs.withLock { $0 }
    }

    func testEveryIndexRunsExactlyOnceForManySizesAndThreadCounts() {
        for threads in [1, 2, 3, 4, 8] {
            // 0 µs: helpers sleep after every region (the wake-up path); 200 µs: they catch the next one spinning.
            for spin in [0, 200] {
                let pool = WorkerPool(threads: threads, spinMicroseconds: spin)
                XCTAssertEqual(pool.threads, threads)
                for count in [1, 2, 3, 5, 8, 13, 64, 1000] {
                    XCTAssertEqual(timesRun(pool, count), [Int](repeating: 1, count: count),
                                   "\(threads) threads, spin \(spin) µs, \(count) indices")
                }
            }
        }
    }

    func testTheCallerAndEveryHelperEachRunAShare() {
        // Each index waits until all `threads` indices are running at once, which needs the caller
        // and every helper; the deadline only keeps a broken pool from hanging the test.
        for threads in [2, 3, 4] {
            let pool = WorkerPool(threads: threads, spinMicroseconds: 100)
            let arrived = Mutex(0), runners = Mutex(Set<String>())
            XCTAssertTrue(pool.run(threads) { _ in
                arrived.withLock { $0 += 1 }
                runners.withLock { _ = $0.insert("\(pthread_self())") }
                let deadline = Date().addingTimeInterval(30)
                while arrived.withLock({ $0 }) < threads, Date() < deadline { sched_yield() }
            })
            XCTAssertEqual(arrived.withLock { $0 }, threads)
            XCTAssertEqual(runners.withLock { $0.count }, threads, "\(threads) indices ran on \(threads) different threads")
            XCTAssertTrue(runners.withLock { $0.contains("\(pthread_self())") },
                          "the caller runs a share")
        }
    }

    func testAnEmptyRegionCallsNothing() {
        let pool = WorkerPool(threads: 3, spinMicroseconds: 50)
        XCTAssertTrue(pool.run(0) { index in XCTFail("an empty region ran index \(index)") })
        XCTAssertEqual(timesRun(pool, 4), [1, 1, 1, 1], "the pool still works after an empty region")
    }

    func testManyRegionsInARowEachRunEveryIndexOnce() {
        let pool = WorkerPool(threads: 4, spinMicroseconds: 20)
        let total = Mutex(0)
        var expected = 0
        for region in 0..<20_000 {
            let count = 1 + region % 7
            expected += count * (count - 1) / 2 + count * region
            XCTAssertTrue(pool.run(count) { index in total.withLock { $0 += index + region } })
        }
        XCTAssertEqual(total.withLock { $0 }, expected)
    }

    func testRegionsSeparatedByPausesWakeSleepingHelpers() {
        let pool = WorkerPool(threads: 3, spinMicroseconds: 0)
        for _ in 0..<20 {
            Thread.sleep(forTimeInterval: 0.002)
            XCTAssertEqual(timesRun(pool, 6), [Int](repeating: 1, count: 6))
        }
    }

    func testANestedRegionIsRefusedAndItsCallerStillCoversEveryIndex() {
        let pool = WorkerPool(threads: 3, spinMicroseconds: 100)
        let refused = Mutex(0)
        let runs = timesRun(pool, 6)
        XCTAssertEqual(runs, [Int](repeating: 1, count: 6))
        XCTAssertTrue(pool.run(6) { _ in
            if !pool.run(2, { _ in XCTFail("a nested region ran") }) { refused.withLock { $0 += 1 } }
        })
        XCTAssertEqual(refused.withLock { $0 }, 6, "every nested region is refused, on the caller's thread and the helpers'")
        // Through Parallel the nested loop falls back to Dispatch and still covers everything.
        let cells = Mutex([Int](repeating: 0, count: 40 * 30))
        Parallel.forRanges(40) { rows in
            for row in rows {
                Parallel.forRanges(30) { columns in
                    for column in columns { cells.withLock { $0[row * 30 + column] += 1 } }
                }
            }
        }
        XCTAssertEqual(cells.withLock { $0 }, [Int](repeating: 1, count: 40 * 30))
    }

    func testCallersOnSeveralThreadsEachGetTheirIndicesRunOnce() {
        let pool = WorkerPool(threads: 2, spinMicroseconds: 50)
        let callers = 4, regions = 500
        let outcomes = Mutex((accepted: 0, refused: 0, wrong: 0))
        DispatchQueue.concurrentPerform(iterations: callers) { _ in
            for _ in 0..<regions {
                let runs = Mutex([Int](repeating: 0, count: 5))
                let accepted = pool.run(5) { index in runs.withLock { $0[index] += 1 } }
                let counts = runs.withLock { $0 }
                outcomes.withLock {
                    if accepted { $0.accepted += 1 } else { $0.refused += 1 }
                    if counts != [Int](repeating: accepted ? 1 : 0, count: 5) { $0.wrong += 1 }
                }
            }
        }
        let result = outcomes.withLock { $0 }
        XCTAssertEqual(result.accepted + result.refused, callers * regions)
        XCTAssertGreaterThan(result.accepted, 0)
        XCTAssertEqual(result.wrong, 0, "a region ran an index twice, or a refused one ran anything")
    }

    func testIdleHelpersGoToSleep() {
        let pool = WorkerPool(threads: 4, spinMicroseconds: 200)
        XCTAssertEqual(timesRun(pool, 8), [Int](repeating: 1, count: 8))
        // After their short spin all three helpers sleep on the condition variable; the generous
        // deadline only keeps a broken pool from hanging the test.
        let deadline = Date().addingTimeInterval(30)
        while pool.sleepingHelpers < 3, Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
        XCTAssertEqual(pool.sleepingHelpers, 3)
        XCTAssertEqual(timesRun(pool, 8), [Int](repeating: 1, count: 8), "sleeping helpers are woken")
    }

    func testPoolsStartAndStopCleanly() {
        for threads in 1...6 {
            let pool = WorkerPool(threads: threads, spinMicroseconds: threads % 2 == 0 ? 0 : 100)
            XCTAssertEqual(timesRun(pool, threads * 3), [Int](repeating: 1, count: threads * 3))
        }
    }

    func testSpinSetting() {
        XCTAssertEqual(WorkerPool.spinMicroseconds(environment: [:]), 200)
        XCTAssertEqual(WorkerPool.spinMicroseconds(environment: ["FLEDGE_SPIN_MICROSECONDS": "0"]), 0)
        XCTAssertEqual(WorkerPool.spinMicroseconds(environment: ["FLEDGE_SPIN_MICROSECONDS": "1500"]), 1500)
    }
}
