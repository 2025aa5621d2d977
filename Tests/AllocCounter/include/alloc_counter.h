#include <stdint.h>
/// Heap allocations made so far by the calling thread (malloc and friends are interposed),
/// except those called from a library named with `tfs_thread_attribute_library`.
int64_t tfs_thread_allocations(void);
/// Allocations the calling thread made from inside the libraries it named.
int64_t tfs_thread_attributed_allocations(void);
/// From now on, allocations this thread makes from inside the loaded library that defines
/// `symbol` (e.g. "cblas_sgemm") are counted apart. Returns 0 if the symbol or library is not found.
int tfs_thread_attribute_library(const char *symbol);
/// Forgets the libraries this thread named.
void tfs_thread_attribute_nothing(void);
