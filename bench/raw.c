/* The floor: N sequential GETs on one libcurl easy handle (keep-alive), with the
 * same headers the SDK sends, discarding the body. Prints requests/s and CPU µs/request. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <curl/curl.h>

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static double now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    CURL *e;
    struct curl_slist *h = NULL;
    char auth[512], agent[512];
    int n, i;
    double t0, c0, wall, cpu;
    if (argc != 4) {
        fprintf(stderr, "usage: raw URL TOKEN N\n");
        return 2;
    }
    n = atoi(argv[3]);
    snprintf(auth, sizeof auth, "authorization: Bearer %s", argv[2]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    e = curl_easy_init();
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "sc-unit-system: metric");
    /* the same User-Agent as the client it is compared with (BENCH_UA), else a short one */
    snprintf(agent, sizeof agent, "user-agent: %s", getenv("BENCH_UA") ? getenv("BENCH_UA") : "raw-libcurl");
    h = curl_slist_append(h, agent);
    curl_easy_setopt(e, CURLOPT_URL, argv[1]);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    t0 = now(CLOCK_MONOTONIC);
    c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (i = 0; i < n; i++) {
        long status = 0;
        if (curl_easy_perform(e) != CURLE_OK)
            return 1;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200)
            return 1;
    }
    wall = now(CLOCK_MONOTONIC) - t0;
    cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    printf("%.0f %.1f\n", n / wall, cpu / n * 1e6);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    curl_global_cleanup();
    return 0;
}
