/* The machine's single-precision FMA peak: independent AVX2 fused multiply-adds, 1 and 2
 * threads, so training-step rates can be read as a share of what the cores can do.
 *   gcc -O2 -mavx2 -mfma -pthread bench/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak
 * (scripts/bench-pytorch builds and runs it.) Twelve accumulators hide the FMA latency. */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define ITERATIONS 200000000L
#define LANES 8
#define CHAINS 12

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *spin(void *out) {
    /* Twelve named accumulators, so they live in registers (an array may not). */
    __m256 a0 = _mm256_set1_ps(0.0f), a1 = _mm256_set1_ps(0.1f), a2 = _mm256_set1_ps(0.2f),
           a3 = _mm256_set1_ps(0.3f), a4 = _mm256_set1_ps(0.4f), a5 = _mm256_set1_ps(0.5f),
           a6 = _mm256_set1_ps(0.6f), a7 = _mm256_set1_ps(0.7f), a8 = _mm256_set1_ps(0.8f),
           a9 = _mm256_set1_ps(0.9f), a10 = _mm256_set1_ps(1.0f), a11 = _mm256_set1_ps(1.1f);
    const __m256 m = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (long i = 0; i < ITERATIONS / CHAINS; i++) {
        a0 = _mm256_fmadd_ps(a0, m, b); a1 = _mm256_fmadd_ps(a1, m, b); a2 = _mm256_fmadd_ps(a2, m, b);
        a3 = _mm256_fmadd_ps(a3, m, b); a4 = _mm256_fmadd_ps(a4, m, b); a5 = _mm256_fmadd_ps(a5, m, b);
        a6 = _mm256_fmadd_ps(a6, m, b); a7 = _mm256_fmadd_ps(a7, m, b); a8 = _mm256_fmadd_ps(a8, m, b);
        a9 = _mm256_fmadd_ps(a9, m, b); a10 = _mm256_fmadd_ps(a10, m, b); a11 = _mm256_fmadd_ps(a11, m, b);
    }
    __m256 sum = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                               _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    sum = _mm256_add_ps(sum, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float lanes[LANES], total = 0;
    _mm256_storeu_ps(lanes, sum);
    for (int j = 0; j < LANES; j++) total += lanes[j];
    *(float *)out = total;   /* keeps the loop */
    return NULL;
}

static double gflops(int threads) {
    pthread_t id[8];
    float sink[8];
    double start = now();
    for (int t = 0; t < threads; t++) pthread_create(&id[t], NULL, spin, &sink[t]);
    for (int t = 0; t < threads; t++) pthread_join(id[t], NULL);
    double seconds = now() - start;
    return 2.0 * LANES * (double)(ITERATIONS / CHAINS * CHAINS) * threads / seconds / 1e9;
}

int main(void) {
    gflops(1);   /* warm up the clocks */
    printf("| threads | FMA peak GFLOP/s |\n|---|---|\n");
    for (int threads = 1; threads <= 2; threads++) printf("| %d | %.0f |\n", threads, gflops(threads));
    return 0;
}
