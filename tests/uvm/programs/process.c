/* Processes: fork and wait4 with exit codes, a pipe between processes, wait for any child, WNOHANG, vfork,
 * getppid, process groups, zombies reaped after the parent is signalled. (exec is in exec.c.) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAIL line %d: %s (errno %d %s)\n", __LINE__, #x, errno, strerror(errno)); return 1; } } while (0)

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int st;
  for (int i = 0; i < 3; i++) {
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) _exit(10 + i);
    CHECK(waitpid(c, &st, 0) == c);
    printf("child %d exited %d\n", i, WEXITSTATUS(st));
  }
  int pfd[2];
  CHECK(pipe(pfd) == 0);
  pid_t writer = fork();
  if (writer == 0) {
    close(pfd[0]);
    for (int i = 0; i < 2000; i++) dprintf(pfd[1], "chunk %04d ................................................\n", i);
    _exit(0);
  }
  close(pfd[1]);
  char buf[4096];
  long total = 0, lines = 0;
  ssize_t n;
  while ((n = read(pfd[0], buf, sizeof buf)) > 0) {
    total += n;
    for (ssize_t i = 0; i < n; i++) lines += buf[i] == '\n';
  }
  close(pfd[0]);
  CHECK(waitpid(writer, &st, 0) == writer && WIFEXITED(st));
  printf("pipe: %ld bytes, %ld lines\n", total, lines);

  pid_t c;
  CHECK(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD);
  pid_t a = fork();
  if (a == 0) {
    usleep(50000);
    _exit(1);
  }
  pid_t b = fork();
  if (b == 0) _exit(2);
  int seen = 0;
  for (int i = 0; i < 2; i++) {
    pid_t w = wait(&st);
    CHECK(w == a || w == b);
    seen += WEXITSTATUS(st);
  }
  printf("wait any: sum of codes %d\n", seen);
  a = fork();
  if (a == 0) {
    usleep(100000);
    _exit(0);
  }
  CHECK(waitpid(a, &st, WNOHANG) == 0);
  CHECK(waitpid(a, &st, 0) == a);
  printf("WNOHANG ok\n");

  pid_t v = vfork();
  if (v == 0) _exit(33);
  CHECK(waitpid(v, &st, 0) == v);
  printf("vfork child exited %d\n", WEXITSTATUS(st));

  c = fork();
  if (c == 0) {
    printf("child: parent matches %d\n", getppid() == getpgrp() || getppid() > 0);
    CHECK(setpgid(0, 0) == 0);
    printf("child: own group %d\n", getpgrp() == getpid());
    _exit(0);
  }
  CHECK(waitpid(c, &st, 0) == c);
  printf("ok\n");
  return 0;
}
