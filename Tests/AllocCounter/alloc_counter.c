// Interposes the C allocator in the test binary to count allocations per thread, so a test
// can prove that a planned run allocates nothing of its own. Forwards to glibc's real functions.
//
// An allocation is tfs's own unless the code that called malloc lies in a library the calling
// thread has named with tfs_thread_attribute_library: OpenBLAS 0.3.21's small-matrix kernels
// (SkylakeX and Cooperlake cores) malloc a scratch buffer inside each cblas_sgemm call, which
// tfs does not control. Those are counted apart, by library, not hidden.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "alloc_counter.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

enum { MAX_LIBRARIES = 4 };
static _Thread_local int64_t own, attributed;
static _Thread_local uintptr_t low[MAX_LIBRARIES], high[MAX_LIBRARIES];
static _Thread_local int libraries;

int64_t tfs_thread_allocations(void) { return own; }
int64_t tfs_thread_attributed_allocations(void) { return attributed; }

// The caller's address decides whose allocation it is.
static inline void note(void *caller) {
    uintptr_t at = (uintptr_t)caller;
    for (int i = 0; i < libraries; i++) {
        if (at >= low[i] && at < high[i]) { attributed++; return; }
    }
    own++;
}

struct search { const char *name; uintptr_t low, high; };

static int find_segments(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct search *s = data;
    if (!info->dlpi_name || strcmp(info->dlpi_name, s->name) != 0) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        if (p->p_type != PT_LOAD) continue;
        uintptr_t start = info->dlpi_addr + p->p_vaddr, end = start + p->p_memsz;
        if (s->low == 0 || start < s->low) s->low = start;
        if (end > s->high) s->high = end;
    }
    return 1;
}

int tfs_thread_attribute_library(const char *symbol) {
    void *address = dlsym(RTLD_DEFAULT, symbol);
    Dl_info where;
    if (!address || !dladdr(address, &where) || !where.dli_fname || libraries == MAX_LIBRARIES) return 0;
    struct search s = { where.dli_fname, 0, 0 };
    if (!dl_iterate_phdr(find_segments, &s) || s.high <= s.low) return 0;
    low[libraries] = s.low; high[libraries] = s.high; libraries++;
    return 1;
}

void tfs_thread_attribute_nothing(void) { libraries = 0; }

void *malloc(size_t n) { note(__builtin_return_address(0)); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { note(__builtin_return_address(0)); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { note(__builtin_return_address(0)); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { note(__builtin_return_address(0)); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { note(__builtin_return_address(0)); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    note(__builtin_return_address(0));
    void *p = __libc_memalign(a, n);
    if (!p) return 12;
    *out = p;
    return 0;
}
