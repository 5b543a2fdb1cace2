/* execve: the program runs itself in "child" mode through execve (with a pipe as stdin, a changed environment and
 * close-on-exec descriptors), vfork+execve, posix_spawn with file actions, and a failing execve. In oracle mode
 * (UVM_ORACLE=1, for qemu-user, which cannot exec a RISC-V file without binfmt_misc) the child code runs in a
 * forked process instead, with the same arguments, stdin and environment, so both runs must print the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAIL line %d: %s (errno %d %s)\n", __LINE__, #x, errno, strerror(errno)); return 1; } } while (0)

extern char **environ;
static int oracle;

static int child_main(int argc, char **argv, char **envp) {
  char line[128] = {0};
  ssize_t n = read(0, line, sizeof line - 1);
  printf("child: argc %d argv[1..]:", argc);
  for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
  printf("; stdin %zd bytes: %s", n, n > 0 ? line : "\n");
  for (char **e = envp; *e; e++) if (strncmp(*e, "POPEK_", 6) == 0) printf("child: env %s\n", *e);
  printf("child: fd 5 open %d\n", fcntl(5, F_GETFD) >= 0);
  fflush(stdout);
  return 17 + argc;
}

/* execve, or in oracle mode the same program state reached by calling child_main in this (forked) process. */
static void run_child(char *path, char **args, char **envp) {
  if (!oracle) {
    execve(path, args, envp);
    _exit(99);
  }
  int argc = 0;
  while (args[argc]) argc++;
  for (int fd = 3; fd < 64; fd++) {
    int fl = fcntl(fd, F_GETFD);
    if (fl >= 0 && (fl & FD_CLOEXEC)) close(fd);
  }
  _exit(child_main(argc, args, envp));
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "child") == 0) return child_main(argc, argv, environ);
  oracle = getenv("UVM_ORACLE") != NULL;
  setvbuf(stdout, NULL, _IONBF, 0);
  int st;
  int pfd[2];
  CHECK(pipe(pfd) == 0);
  int keep = open("/dev/null", O_RDONLY);
  CHECK(dup2(keep, 5) == 5);
  CHECK(fcntl(5, F_SETFD, FD_CLOEXEC) == 0);
  pid_t c = fork();
  if (c == 0) {
    dup2(pfd[0], 0);
    close(pfd[0]);
    close(pfd[1]);
    char *args[] = {argv[0], "child", "one", "two words", NULL};
    char *envp[] = {"POPEK_A=1", "POPEK_B=from parent", NULL};
    run_child(argv[0], args, envp);
  }
  close(pfd[0]);
  CHECK(write(pfd[1], "hello child\n", 12) == 12);
  close(pfd[1]);
  CHECK(waitpid(c, &st, 0) == c);
  printf("execve child exited %d\n", WEXITSTATUS(st));

  pid_t v = vfork();
  if (v == 0) {
    close(0);
    open("/dev/null", O_RDONLY);
    char *args[] = {argv[0], "child", "vforked", NULL};
    run_child(argv[0], args, environ);
  }
  CHECK(waitpid(v, &st, 0) == v);
  printf("vfork+exec child exited %d\n", WEXITSTATUS(st));

  if (!oracle) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    char *sargs[] = {argv[0], "child", "spawned", NULL};
    char *senv[] = {"POPEK_SPAWN=yes", NULL};
    pid_t sp;
    CHECK(posix_spawn(&sp, argv[0], &fa, NULL, sargs, senv) == 0);
    CHECK(waitpid(sp, &st, 0) == sp);
  } else {
    pid_t sp = fork();
    if (sp == 0) {
      int fd = open("/dev/null", O_RDONLY);
      dup2(fd, 0);
      close(fd);
      char *sargs[] = {argv[0], "child", "spawned", NULL};
      char *senv[] = {"POPEK_SPAWN=yes", NULL};
      run_child(argv[0], sargs, senv);
    }
    CHECK(waitpid(sp, &st, 0) == sp);
  }
  printf("posix_spawn child exited %d\n", WEXITSTATUS(st));
  char *bad[] = {"/nonexistent", NULL};
  CHECK(execve("/nonexistent/program", bad, environ) == -1 && errno == ENOENT);
  CHECK(execve("/dev/null", bad, environ) == -1 && errno == EACCES);
  printf("ok\n");
  return 0;
}
