/* The child of the output-to-files benchmark: it writes BYTES of numbered 100-byte lines
 * ("0000000000 xxx...x\n") to stdout in 65,500-byte writes (655 whole lines), as fast as C can,
 * timing each write(2) with CLOCK_MONOTONIC (the clock of Node's process.hrtime). When done it
 * writes one line to REPORT: the start time (ns), the longest write (ns), the writes that took
 * over 10 ms and over 100 ms, and its own CPU time (user and system, µs), so the consumer's CPU
 * can be told apart from the writer's. Its stdout is the only thing it writes to the pipe.
 *   output-files-writer BYTES REPORT
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define LINE 100
#define PER_WRITE 655

static long long now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

/* Adds one to the 10-digit decimal number at `digits`. */
static void increment(char *digits) {
  for (int i = 9; i >= 0; i--) {
    if (digits[i] != '9') {
      digits[i]++;
      return;
    }
    digits[i] = '0';
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: output-files-writer BYTES REPORT\n");
    return 2;
  }
  /* keepalive forwards SIGPROF, which `node --cpu-prof` makes in keepalive: not the writer's. */
  signal(SIGPROF, SIG_IGN);
  long long lines = atoll(argv[1]) / LINE;
  static char block[PER_WRITE * LINE];
  char number[10];
  memset(number, '0', sizeof number);
  for (int i = 0; i < PER_WRITE; i++) {
    memset(block + i * LINE + 10, 'x', LINE - 11);
    block[i * LINE + 10] = ' ';
    block[i * LINE + LINE - 1] = '\n';
  }
  long long started = now_ns();
  long long longest = 0, over10 = 0, over100 = 0;
  for (long long done = 0; done < lines;) {
    int count = lines - done < PER_WRITE ? (int)(lines - done) : PER_WRITE;
    for (int i = 0; i < count; i++) {
      memcpy(block + i * LINE, number, 10);
      increment(number);
    }
    size_t length = (size_t)count * LINE;
    for (size_t at = 0; at < length;) {
      long long before = now_ns();
      ssize_t wrote = write(1, block + at, length - at);
      long long took = now_ns() - before;
      if (wrote < 0) {
        if (errno == EINTR) continue;
        perror("output-files-writer: write");
        return 1;
      }
      if (took > longest) longest = took;
      if (took > 10000000LL) over10++;
      if (took > 100000000LL) over100++;
      at += (size_t)wrote;
    }
    done += count;
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  FILE *report = fopen(argv[2], "w");
  if (!report) return 1;
  fprintf(report, "%lld %lld %lld %lld %lld %lld\n", started, longest, over10, over100,
          (long long)usage.ru_utime.tv_sec * 1000000 + usage.ru_utime.tv_usec,
          (long long)usage.ru_stime.tv_sec * 1000000 + usage.ru_stime.tv_usec);
  fclose(report);
  return 0;
}
