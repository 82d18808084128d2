// The persistent worker pool behind `WorkerPool` (FledgeTensor/Core/WorkerPool.swift).
//
// A region is published in three steps by its caller, which owns the pool for the region's
// duration (`busy`):
//   1. `claim` := (region, CLOSED): nobody can claim an index of the new region yet, and nobody
//      can claim one of the previous region any more;
//   2. the region's task, context and count are written;
//   3. `claim` := (region, 0) with release, then `region` := region, and sleeping helpers are woken.
// Indices are claimed with a compare-and-swap on the 64-bit `claim` word, whose high half names the
// region, so a helper that read an old region's description can never claim an index of a newer one
// (its swap fails). The description is read before an acquire fence and the swap after it: a helper
// that read step 2's values of a newer region is guaranteed to see step 1 too, so its swap fails.
// Every index of a region is claimed exactly once, and the region ends when `completed` reaches
// its count; the caller does not wait for helpers that never joined (a descheduled helper does not
// hold up the region, the others take its share).
//
// Waiting is spin-then-sleep, as llama.cpp's thread pool does: a helper watches `region` for
// `spin_nanoseconds`, then sleeps on `wake`; the caller watches `completed`, then sleeps on
// `finished`. Sleepers announce themselves (`sleeping`, `caller_sleeping`) with sequentially
// consistent operations before their last check, and wakers check those counters after their
// sequentially consistent store, so at least one side sees the other (no lost wake-ups); the
// signal is sent under the mutex the sleeper checks its condition under.
#include "worker_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define CLOSED 0xffffffffu
// How long a waiting thread spins on `pause` before it starts yielding between checks.
#define PAUSING_NANOSECONDS 10000

struct fledge_worker_pool {
    long helpers;
    long spin_nanoseconds;
    pthread_t *threads;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t finished;

    _Atomic uint64_t claim;        // (region << 32) | next index to hand out
    _Atomic uint32_t region;       // the latest published region; helpers wait for it to change
    _Atomic(fledge_worker_pool_task) task;
    _Atomic(void *) context;
    _Atomic long count;
    _Atomic long completed;        // indices of the current region whose task has returned
    _Atomic int busy;              // 1 while a caller runs a region
    _Atomic int sleeping;          // helpers asleep (or about to sleep) on `wake`
    _Atomic int caller_sleeping;   // 1 while the caller sleeps (or is about to) on `finished`
    _Atomic int stopping;
    uint32_t last_region;          // the caller's counter, used only while `busy` is held
};

// 1 on a thread while it runs a task of some pool or a region as its caller.
static _Thread_local int inside_region;

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline int64_t now_nanoseconds(void) {
    struct timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return (int64_t)time.tv_sec * 1000000000 + time.tv_nsec;
}

// Spins until `done(pool, argument)` or `spin_nanoseconds` have passed; returns whether it is done.
// The first few microseconds spin on `pause` alone (the next product of a decoding step usually
// comes that soon); after that every check yields the core first, which costs a quiet machine
// next to nothing (nothing else is runnable there) and lets other threads, the caller's own
// included, run on a busy one rather than watch a spinning thread use up their time slices.
static int spin_until(const fledge_worker_pool *pool, int (*done)(const fledge_worker_pool *, uint64_t), uint64_t argument) {
    if (done(pool, argument)) return 1;
    int64_t start = now_nanoseconds(), now = start;
    int64_t deadline = start + pool->spin_nanoseconds, busy = start + (PAUSING_NANOSECONDS < pool->spin_nanoseconds ? PAUSING_NANOSECONDS : pool->spin_nanoseconds);
    while (now < busy) {
        for (int i = 0; i < 64; i++) {
            relax();
            if (done(pool, argument)) return 1;
        }
        now = now_nanoseconds();
    }
    while (now < deadline) {
        sched_yield();
        if (done(pool, argument)) return 1;
        now = now_nanoseconds();
    }
    return 0;
}

// The conditions waited for load sequentially consistently: a sleeper's announcement and its last
// check must not be reordered (see the top of this file).
static int region_changed(const fledge_worker_pool *pool, uint64_t seen) {
    return atomic_load(&pool->region) != (uint32_t)seen || atomic_load_explicit(&pool->stopping, memory_order_relaxed);
}

static int region_completed(const fledge_worker_pool *pool, uint64_t count) {
    return (uint64_t)atomic_load(&pool->completed) == count;
}

// Claims and runs indices of `region` until none is left; returns how many it ran and, when any,
// the region's count in `*count`.
static long run_indices(fledge_worker_pool *pool, uint32_t region, long *count) {
    long ran = 0;
    uint64_t word = atomic_load_explicit(&pool->claim, memory_order_acquire);
    for (;;) {
        if ((uint32_t)(word >> 32) != region) return ran;
        uint64_t index = word & 0xffffffffu;
        fledge_worker_pool_task task = atomic_load_explicit(&pool->task, memory_order_relaxed);
        void *context = atomic_load_explicit(&pool->context, memory_order_relaxed);
        long regionCount = atomic_load_explicit(&pool->count, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (index >= (uint64_t)regionCount) return ran;
        if (atomic_compare_exchange_weak_explicit(&pool->claim, &word, word + 1, memory_order_acquire, memory_order_acquire)) {
            task(context, (long)index);
            *count = regionCount;
            ran += 1;
            word = atomic_load_explicit(&pool->claim, memory_order_acquire);
        }
    }
}

static void *helper_main(void *argument) {
    fledge_worker_pool *pool = argument;
    uint32_t seen = 0;
    inside_region = 1;
    for (;;) {
        if (!spin_until(pool, region_changed, seen)) {
            pthread_mutex_lock(&pool->lock);
            atomic_fetch_add(&pool->sleeping, 1);
            while (!region_changed(pool, seen)) pthread_cond_wait(&pool->wake, &pool->lock);
            atomic_fetch_sub(&pool->sleeping, 1);
            pthread_mutex_unlock(&pool->lock);
        }
        if (atomic_load(&pool->stopping)) return NULL;
        seen = atomic_load_explicit(&pool->region, memory_order_acquire);
        long count = 0;
        long ran = run_indices(pool, seen, &count);
        if (ran > 0 && atomic_fetch_add(&pool->completed, ran) + ran == count && atomic_load(&pool->caller_sleeping)) {
            pthread_mutex_lock(&pool->lock);
            pthread_cond_signal(&pool->finished);
            pthread_mutex_unlock(&pool->lock);
        }
    }
}

fledge_worker_pool *fledge_worker_pool_create(long helpers, long spin_nanoseconds) {
    fledge_worker_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->spin_nanoseconds = spin_nanoseconds > 0 ? spin_nanoseconds : 0;
    pool->threads = calloc(helpers > 0 ? (size_t)helpers : 1, sizeof(pthread_t));
    if (!pool->threads) {
        free(pool);
        return NULL;
    }
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->finished, NULL);
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    // Tasks run Swift code; give them a main thread's stack rather than a platform's small default.
    pthread_attr_setstacksize(&attributes, 8u << 20);
    for (long i = 0; i < helpers; i++) {
        if (pthread_create(&pool->threads[pool->helpers], &attributes, helper_main, pool) == 0) pool->helpers += 1;
    }
    pthread_attr_destroy(&attributes);
    return pool;
}

void fledge_worker_pool_destroy(fledge_worker_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->stopping, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (long i = 0; i < pool->helpers; i++) pthread_join(pool->threads[i], NULL);
    pthread_cond_destroy(&pool->finished);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool->threads);
    free(pool);
}

long fledge_worker_pool_helpers(const fledge_worker_pool *pool) { return pool->helpers; }

long fledge_worker_pool_sleeping(fledge_worker_pool *pool) { return atomic_load(&pool->sleeping); }

int fledge_worker_pool_run(fledge_worker_pool *pool, long count, fledge_worker_pool_task task, void *context) {
    if (count <= 0) return 1;
    if (inside_region || (uint64_t)count >= CLOSED) return 0;
    int idle = 0;
    if (!atomic_compare_exchange_strong(&pool->busy, &idle, 1)) return 0;
    inside_region = 1;
    if (pool->helpers == 0 || count == 1) {
        for (long i = 0; i < count; i++) task(context, i);
    } else {
        uint32_t region = ++pool->last_region;
        if (region == 0) region = ++pool->last_region;  // 0 is the helpers' initial "seen"
        atomic_store_explicit(&pool->claim, ((uint64_t)region << 32) | CLOSED, memory_order_relaxed);
        atomic_thread_fence(memory_order_release);
        atomic_store_explicit(&pool->task, task, memory_order_relaxed);
        atomic_store_explicit(&pool->context, context, memory_order_relaxed);
        atomic_store_explicit(&pool->count, count, memory_order_relaxed);
        atomic_store_explicit(&pool->completed, 0, memory_order_relaxed);
        atomic_store_explicit(&pool->claim, (uint64_t)region << 32, memory_order_release);
        atomic_store(&pool->region, region);
        if (atomic_load(&pool->sleeping) > 0) {
            pthread_mutex_lock(&pool->lock);
            pthread_cond_broadcast(&pool->wake);
            pthread_mutex_unlock(&pool->lock);
        }
        long regionCount = count;
        long ran = run_indices(pool, region, &regionCount);
        if (ran > 0) atomic_fetch_add(&pool->completed, ran);
        if (!spin_until(pool, region_completed, (uint64_t)count)) {
            pthread_mutex_lock(&pool->lock);
            atomic_store(&pool->caller_sleeping, 1);
            while (!region_completed(pool, (uint64_t)count)) pthread_cond_wait(&pool->finished, &pool->lock);
            atomic_store(&pool->caller_sleeping, 0);
            pthread_mutex_unlock(&pool->lock);
        }
    }
    inside_region = 0;
    atomic_store_explicit(&pool->busy, 0, memory_order_release);
    return 1;
}
