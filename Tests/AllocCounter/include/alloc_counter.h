#include <stdint.h>
/// Heap allocations made so far by the calling thread (malloc and friends are interposed).
int64_t tfs_thread_allocations(void);
