// A persistent pool of worker threads for Fledge's parallel loops (`WorkerPool` in FledgeTensor
// is its Swift face; see there for why it is written in C).
#ifndef FLEDGE_WORKER_POOL_H
#define FLEDGE_WORKER_POOL_H

#ifdef __cplusplus
extern "C" {
#endif

/// One parallel region's work: called once for every index of the region, from any thread.
typedef void (*fledge_worker_pool_task)(void *context, long index);

/// A pool of threads started once and woken for every region.
typedef struct fledge_worker_pool fledge_worker_pool;

/// Starts `helpers` threads (the caller of `fledge_worker_pool_run` is one more). After a region a
/// helper keeps watching for the next one for `spin_nanoseconds`, then sleeps on a condition
/// variable until woken; a caller waiting for helpers to finish does the same. Returns NULL when
/// memory runs out; starts fewer helpers when the system refuses threads.
fledge_worker_pool *fledge_worker_pool_create(long helpers, long spin_nanoseconds);

/// Stops and joins the helpers and frees the pool. No region may be running.
void fledge_worker_pool_destroy(fledge_worker_pool *pool);

/// The helper threads the pool actually started.
long fledge_worker_pool_helpers(const fledge_worker_pool *pool);

/// Helpers asleep on the pool's condition variable right now (they have stopped spinning).
long fledge_worker_pool_sleeping(fledge_worker_pool *pool);

/// Calls `task(context, i)` exactly once for every `i` in `0 ..< count` (count below 2³² − 1),
/// shared among the helpers and the calling thread, and returns 1 when all calls have returned.
/// Which thread runs which index is not fixed, so a task must not depend on it. Returns 0 at once,
/// having called nothing, when the pool is running another caller's region or the calling thread
/// is itself running a task of some pool (a nested region); the caller then does the work another
/// way.
int fledge_worker_pool_run(fledge_worker_pool *pool, long count, fledge_worker_pool_task task, void *context);

#ifdef __cplusplus
}
#endif

#endif
