/* A tiny child for the benchmarks: it stamps CLOCK_MONOTONIC (the clock of Node's
 * process.hrtime) into a file, so gaps are measured where they happen, not where they are seen.
 *   stamp FILE          append the start time and exit 1 at once (restart gap, start-up)
 *   stamp FILE signals  append "ready", then a time for each SIGUSR1; SIGTERM ends it (forwarding)
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int out = -1;

static void stamp(void) {
  struct timespec now;
  char line[32];
  clock_gettime(CLOCK_MONOTONIC, &now);
  int length = snprintf(line, sizeof line, "%lld\n", (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
  (void)!write(out, line, (size_t)length);
}

static void on_usr1(int signal) {
  (void)signal;
  stamp();
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  out = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (out < 0) return 2;
  if (argc > 2 && strcmp(argv[2], "signals") == 0) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_usr1;
    sigaction(SIGUSR1, &action, NULL);
    (void)!write(out, "ready\n", 6);
    for (;;) pause();
  }
  stamp();
  return 1;
}
