/* The output benchmark's sink: reads stdin to its end as `cat > /dev/null` does (the same 128 KiB
 * reads), then prints the bytes read and the nanoseconds from the first byte to the last, so a
 * run's throughput leaves out its start (Node's, the spawns) and its end.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static long long now(void) {
  struct timespec at;
  clock_gettime(CLOCK_MONOTONIC, &at);
  return (long long)at.tv_sec * 1000000000LL + at.tv_nsec;
}

int main(void) {
  static char buffer[128 * 1024];
  long long bytes = 0, first = 0, last = 0;
  for (;;) {
    ssize_t got = read(0, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    if (bytes == 0) first = now();
    bytes += got;
    last = now();
  }
  printf("%lld %lld\n", bytes, last - first);
  return 0;
}
