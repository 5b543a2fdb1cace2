/* Memory: brk/sbrk, a large anonymous mmap touched page by page, munmap, mprotect with a SIGSEGV handler, mremap
 * growth and move, MAP_FIXED, file mmap, MAP_SHARED anonymous memory shared with a forked child, madvise. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAIL line %d: %s (errno %d %s)\n", __LINE__, #x, errno, strerror(errno)); return 1; } } while (0)

static sigjmp_buf jb;
static volatile void *fault_addr;
static void on_segv(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  fault_addr = si->si_addr;
  siglongjmp(jb, sig);
}

int main(void) {
  long page = sysconf(_SC_PAGESIZE);
  printf("page %ld\n", page);
  char *b0 = sbrk(0);
  CHECK(sbrk(1 << 20) == b0);
  memset(b0, 0x5a, 1 << 20);
  CHECK(sbrk(-(1 << 19)) != (void *)-1);
  CHECK(sbrk(0) == b0 + (1 << 19));
  printf("brk ok\n");

  size_t big = 192u << 20;
  unsigned char *m = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(m != MAP_FAILED);
  CHECK(((uintptr_t)m & (page - 1)) == 0);
  uint64_t sum = 0;
  for (size_t i = 0; i < big; i += 65536) m[i] = (unsigned char)(i >> 16);
  for (size_t i = 0; i < big; i += 65536) sum += m[i];
  CHECK(m[1] == 0 && m[big - 1] == 0);
  printf("big mmap sum %llu\n", (unsigned long long)sum);
  CHECK(munmap(m, big) == 0);

  struct sigaction sa = {0};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
  char *p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(p != MAP_FAILED);
  strcpy(p + page, "protected");
  CHECK(mprotect(p + page, page, PROT_READ) == 0);
  int s = sigsetjmp(jb, 1);
  if (s == 0) {
    p[page] = 'X';
    printf("FAIL: write to read-only page succeeded\n");
    return 1;
  }
  printf("SIGSEGV on write to read-only page: sig %d at offset %ld, content %s\n", s, (long)((char *)fault_addr - p), p + page);
  CHECK(mprotect(p + page, page, PROT_NONE) == 0);
  if (sigsetjmp(jb, 1) == 0) {
    volatile char c = p[page + 10];
    (void)c;
    printf("FAIL: read of PROT_NONE page succeeded\n");
    return 1;
  }
  printf("SIGSEGV on read of PROT_NONE page at offset %ld\n", (long)((char *)fault_addr - p));
  CHECK(mprotect(p + page, page, PROT_READ | PROT_WRITE) == 0);
  printf("content kept: %s\n", p + page);
  CHECK(munmap(p + 2 * page, page) == 0);
  if (sigsetjmp(jb, 1) == 0) {
    p[2 * page] = 1;
    printf("FAIL: write to unmapped page succeeded\n");
    return 1;
  }
  printf("SIGSEGV on unmapped page at offset %ld\n", (long)((char *)fault_addr - p));
  if (sigsetjmp(jb, 1) == 0) {
    *(volatile int *)0 = 1;
    return 1;
  }
  printf("SIGSEGV on NULL at %p\n", (void *)fault_addr);

  char *r = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  strcpy(r, "remap me");
  char *r2 = mremap(r, page, 64 * page, MREMAP_MAYMOVE);
  CHECK(r2 != MAP_FAILED);
  r2[63 * page] = 7;
  printf("mremap: %s %d\n", r2, r2[63 * page]);
  char *r3 = mremap(r2, 64 * page, 16 * page, 0);
  CHECK(r3 == r2);
  CHECK(munmap(r3, 16 * page) == 0);

  char *fx = mmap(NULL, 8 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  fx[3 * page] = 'a';
  char *f2 = mmap(fx + 2 * page, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  CHECK(f2 == fx + 2 * page);
  printf("MAP_FIXED replaced: %d\n", fx[3 * page]);
  fx[0] = 1;
  CHECK(madvise(fx, page, MADV_DONTNEED) == 0);
  printf("after MADV_DONTNEED: %d\n", fx[0]);

  int fd = open("mmap-test.bin", O_CREAT | O_RDWR | O_TRUNC, 0644);
  CHECK(fd >= 0);
  char data[10000];
  for (int i = 0; i < 10000; i++) data[i] = 'a' + i % 26;
  CHECK(write(fd, data, sizeof data) == sizeof data);
  char *fm = mmap(NULL, 10000, PROT_READ, MAP_PRIVATE, fd, 0);
  CHECK(fm != MAP_FAILED);
  printf("file map: %.5s %.5s %d\n", fm, fm + 9995, fm[10000 % page ? 10000 : 0]);
  char *fm2 = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, page);
  CHECK(fm2 != MAP_FAILED && fm2[0] == data[page]);
  fm2[0] = '!';
  char c;
  CHECK(pread(fd, &c, 1, page) == 1 && c == data[page]);
  close(fd);
  unlink("mmap-test.bin");
  printf("private file copy ok\n");

  int *shared = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  int *priv = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(shared != MAP_FAILED && priv != MAP_FAILED);
  *shared = 1;
  *priv = 1;
  pid_t pid = fork();
  if (pid == 0) {
    *shared = 42;
    *priv = 42;
    _exit(0);
  }
  int st;
  CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
  printf("after fork: shared %d private %d\n", *shared, *priv);
  void *big2 = malloc(50 << 20);
  CHECK(big2 != NULL);
  memset(big2, 1, 50 << 20);
  free(big2);
  printf("ok\n");
  return 0;
}
