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
    __m256 acc[CHAINS];
    for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_set1_ps(c * 1e-3f);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (long i = 0; i < ITERATIONS / CHAINS; i++)
        for (int c = 0; c < CHAINS; c++) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
    float sum = 0, lanes[LANES];
    for (int c = 0; c < CHAINS; c++) { _mm256_storeu_ps(lanes, acc[c]); for (int j = 0; j < LANES; j++) sum += lanes[j]; }
    *(float *)out = sum;   /* keeps the loop */
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
