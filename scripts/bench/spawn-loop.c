/* The C floor of the restart gap: fork, exec and waitpid the same child again and again, as a
 * supervisor with nothing else to do would.
 *   spawn-loop N PROGRAM ARG...   runs PROGRAM ARG... N times, one after the other
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  long runs = strtol(argv[1], NULL, 10);
  for (long run = 0; run < runs; run++) {
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      execv(argv[2], argv + 2);
      _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
    }
  }
  return 0;
}
