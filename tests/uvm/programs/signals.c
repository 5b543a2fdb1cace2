/* Signals: handlers via raise/kill/tgkill, SA_SIGINFO fields, sigprocmask blocking and pending, SA_RESETHAND,
 * SIGALRM with pause, sigsuspend, a SIGCHLD handler, sigaltstack, SIGPIPE ignored gives EPIPE. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAIL line %d: %s (errno %d %s)\n", __LINE__, #x, errno, strerror(errno)); return 1; } } while (0)

static volatile sig_atomic_t got[65];
static volatile int last_code, last_pid_ok;
static char *altstack;
static volatile int on_alt;

static void h(int sig) { got[sig]++; }
static void hinfo(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  got[sig]++;
  last_code = si->si_code;
  last_pid_ok = si->si_pid == getpid();
}
static void halt(int sig) {
  int local;
  got[sig]++;
  on_alt = (char *)&local >= altstack && (char *)&local < altstack + SIGSTKSZ * 4;
}

int main(void) {
  signal(SIGUSR1, h);
  CHECK(raise(SIGUSR1) == 0);
  printf("raise: %d\n", got[SIGUSR1]);
  CHECK(kill(getpid(), SIGUSR1) == 0);
  printf("kill: %d\n", got[SIGUSR1]);

  struct sigaction sa = {0};
  sa.sa_sigaction = hinfo;
  sa.sa_flags = SA_SIGINFO;
  CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
  CHECK(kill(getpid(), SIGUSR2) == 0);
  printf("siginfo: count %d code %d (SI_USER %d) pid ok %d\n", got[SIGUSR2], last_code, SI_USER, last_pid_ok);
  CHECK(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2) == 0);
  printf("tgkill: count %d code %d (SI_TKILL %d)\n", got[SIGUSR2], last_code, SI_TKILL);

  sigset_t set, old, pend;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  CHECK(sigprocmask(SIG_BLOCK, &set, &old) == 0);
  raise(SIGUSR1);
  raise(SIGUSR1);
  CHECK(sigpending(&pend) == 0);
  printf("blocked: count %d pending %d\n", got[SIGUSR1], sigismember(&pend, SIGUSR1));
  CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
  printf("unblocked: count %d (one delivery for two raises)\n", got[SIGUSR1]);

  sa.sa_handler = h;
  sa.sa_flags = SA_RESETHAND;
  CHECK(sigaction(SIGWINCH, &sa, NULL) == 0);
  raise(SIGWINCH);
  struct sigaction cur;
  CHECK(sigaction(SIGWINCH, NULL, &cur) == 0);
  printf("resethand: count %d now default %d\n", got[SIGWINCH], cur.sa_handler == SIG_DFL);

  signal(SIGALRM, h);
  alarm(1);
  pause();
  printf("alarm+pause: %d\n", got[SIGALRM]);

  sigprocmask(SIG_BLOCK, &set, &old);
  pid_t parent = getpid();
  pid_t c = fork();
  if (c == 0) {
    kill(parent, SIGUSR1);
    _exit(5);
  }
  sigset_t waitmask;
  sigfillset(&waitmask);
  sigdelset(&waitmask, SIGUSR1);
  int before = got[SIGUSR1];
  while (got[SIGUSR1] == before) sigsuspend(&waitmask);
  printf("sigsuspend woke: %d\n", got[SIGUSR1] - before);
  sigprocmask(SIG_SETMASK, &old, NULL);
  int st;
  CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 5);

  signal(SIGCHLD, h);
  c = fork();
  if (c == 0) _exit(0);
  while (waitpid(c, &st, 0) < 0 && errno == EINTR) {
  }
  printf("SIGCHLD: %d\n", got[SIGCHLD]);

  altstack = malloc(SIGSTKSZ * 4);
  stack_t ss = {.ss_sp = altstack, .ss_size = SIGSTKSZ * 4, .ss_flags = 0};
  CHECK(sigaltstack(&ss, NULL) == 0);
  sa.sa_handler = halt;
  sa.sa_flags = SA_ONSTACK;
  CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
  raise(SIGUSR1);
  printf("altstack: %d\n", on_alt);

  signal(SIGPIPE, SIG_IGN);
  int fds[2];
  CHECK(pipe(fds) == 0);
  close(fds[0]);
  CHECK(write(fds[1], "x", 1) == -1 && errno == EPIPE);
  printf("EPIPE ok\n");
  signal(SIGPIPE, h);
  CHECK(write(fds[1], "x", 1) == -1 && errno == EPIPE);
  printf("SIGPIPE: %d\n", got[SIGPIPE]);

  c = fork();
  if (c == 0) {
    signal(SIGTERM, SIG_DFL);
    pause();
    _exit(0);
  }
  usleep(100000);
  kill(c, SIGTERM);
  CHECK(waitpid(c, &st, 0) == c);
  printf("child killed: signaled %d sig %d\n", WIFSIGNALED(st), WTERMSIG(st));
  printf("ok\n");
  return 0;
}
