// The C library's allocator settings that Swift's Glibc module does not export (malloc.h).
#include "FledgeKernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int fledge_set_mmap_threshold(int bytes) {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, bytes);
#else
    (void)bytes;
    return 0;
#endif
}
