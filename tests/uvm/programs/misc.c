/* Odds and ends: argv/envp, auxv (AT_PAGESZ, AT_RANDOM, AT_PHDR, AT_EXECFN), getrandom, identity calls, uname,
 * rlimits, sysconf, strerror, errno of bad calls, exit status from main. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAIL line %d: %s (errno %d %s)\n", __LINE__, #x, errno, strerror(errno)); return 1; } } while (0)

int main(int argc, char **argv, char **envp) {
  printf("argc %d\n", argc);
  for (int i = 1; i < argc; i++) printf("argv[%d] = '%s'\n", i, argv[i]);
  /* Sorted: qemu-user reverses the environment's order, Linux keeps it. */
  for (const char *want = "UVM_A"; want; want = strcmp(want, "UVM_A") == 0 ? "UVM_B" : NULL)
    for (char **e = envp; *e; e++)
      if (strncmp(*e, want, 5) == 0) printf("env %s\n", *e);
  printf("AT_PAGESZ %lu\n", getauxval(AT_PAGESZ));
  unsigned char *rnd = (unsigned char *)getauxval(AT_RANDOM);
  CHECK(rnd != NULL);
  printf("AT_PHDR set %d, AT_ENTRY set %d, AT_EXECFN is argv[0] %d\n", getauxval(AT_PHDR) != 0,
         getauxval(AT_ENTRY) != 0, strcmp((char *)getauxval(AT_EXECFN), argv[0]) == 0);
  unsigned char b[64];
  CHECK(getrandom(b, sizeof b, 0) == sizeof b);
  int nz = 0;
  for (int i = 0; i < 64; i++) nz += b[i] != 0;
  printf("getrandom nonzero bytes > 40: %d\n", nz > 40);
  printf("pid == tid: %d, ppid > 0: %d, uid %d\n", getpid() == gettid(), getppid() > 0, getuid() == geteuid());
  struct utsname u;
  CHECK(uname(&u) == 0);
  printf("uname: %s %s\n", u.sysname, u.machine);
  struct rlimit rl;
  CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= 256);
  CHECK(getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur >= 1024 * 1024);
  printf("rlimits ok\n");
  printf("sysconf pagesize %ld, nprocs >= 1: %d\n", sysconf(_SC_PAGESIZE), sysconf(_SC_NPROCESSORS_ONLN) >= 1);
  printf("strerror: %s\n", strerror(ENOENT));
  CHECK(close(12345) == -1 && errno == EBADF);
  CHECK(read(-1, b, 1) == -1 && errno == EBADF);
  CHECK(write(1, (void *)16, 10) == -1 && errno == EFAULT);
  char cwd[8];
  CHECK(getcwd(cwd, 1) == NULL && errno == ERANGE);
  double dsum = 0;
  for (int i = 1; i <= 1000; i++) dsum += 1.0 / i;
  printf("float: %.12f %.6e %g\n", dsum, dsum * 1e100, (float)dsum);
  fprintf(stderr, "this goes to stderr\n");
  printf("ok\n");
  return 42;
}
