/* File I/O: open/read/write/lseek/pread/pwrite/preadv/pwritev/readv/writev/dup/fcntl/ftruncate/rename/unlink/stat/access/O_APPEND. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAIL line %d: %s (errno %d %s)\n", __LINE__, #x, errno, strerror(errno)); return 1; } } while (0)

int main(void) {
  const char *name = "files-test.txt";
  unlink(name);
  int fd = open(name, O_CREAT | O_EXCL | O_RDWR, 0640);
  CHECK(fd >= 0);
  CHECK(write(fd, "hello, world\n", 13) == 13);
  struct iovec iov[3] = {{"abc", 3}, {"", 0}, {"defgh\n", 6}};
  CHECK(writev(fd, iov, 3) == 9);
  CHECK(lseek(fd, 0, SEEK_CUR) == 22);
  CHECK(lseek(fd, 0, SEEK_SET) == 0);
  char buf[64] = {0};
  CHECK(read(fd, buf, sizeof buf) == 22);
  printf("read: %s", buf);
  CHECK(pread(fd, buf, 5, 7) == 5);
  buf[5] = 0;
  printf("pread: %s\n", buf);
  CHECK(pwrite(fd, "W", 1, 7) == 1);
  CHECK(lseek(fd, 0, SEEK_CUR) == 22);
  struct iovec pv[2] = {{"PQ", 2}, {"R", 1}};
  CHECK(pwritev(fd, pv, 2, 1) == 3);
  char p1[4] = {0}, p2[8] = {0};
  struct iovec rv2[2] = {{p1, 2}, {p2, 4}};
  CHECK(preadv(fd, rv2, 2, 0) == 6);
  printf("preadv: %.2s|%.4s\n", p1, p2);
  CHECK(lseek(fd, 0, SEEK_CUR) == 22);
  CHECK(pread(fd, buf, 1, -1) == -1 && errno == EINVAL);
  CHECK(pwrite(fd, "x", 1, -1) == -1 && errno == EINVAL);
  CHECK(preadv(fd, rv2, 2, -1) == -1 && errno == EINVAL);
  CHECK(pwritev(fd, pv, 2, -1) == -1 && errno == EINVAL);
  struct stat st;
  CHECK(fstat(fd, &st) == 0);
  printf("size %lld mode %o regular %d\n", (long long)st.st_size, st.st_mode & 0777, S_ISREG(st.st_mode));
  CHECK(ftruncate(fd, 5) == 0);
  CHECK(fstat(fd, &st) == 0);
  printf("truncated size %lld\n", (long long)st.st_size);
  int fd2 = dup(fd);
  CHECK(fd2 > fd);
  CHECK(lseek(fd2, 0, SEEK_END) == 5);
  CHECK(lseek(fd, 0, SEEK_CUR) == 5); /* shared offset */
  CHECK(fcntl(fd2, F_GETFD) == 0);
  CHECK(fcntl(fd2, F_SETFD, FD_CLOEXEC) == 0);
  CHECK(fcntl(fd2, F_GETFD) == FD_CLOEXEC);
  CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
  int fd3 = dup3(fd, 20, O_CLOEXEC);
  CHECK(fd3 == 20);
  CHECK(close(fd3) == 0 && close(fd2) == 0 && close(fd) == 0);
  CHECK(close(fd) == -1 && errno == EBADF);

  fd = open(name, O_WRONLY | O_APPEND);
  CHECK(fd >= 0);
  CHECK(write(fd, "+tail", 5) == 5);
  close(fd);
  fd = open(name, O_RDONLY);
  memset(buf, 0, sizeof buf);
  struct iovec rv[2] = {{buf, 3}, {buf + 10, 20}};
  CHECK(readv(fd, rv, 2) == 10);
  printf("readv: %.3s|%.7s\n", buf, buf + 10);
  CHECK(write(fd, "x", 1) == -1 && errno == EBADF);
  close(fd);

  CHECK(access(name, R_OK | W_OK) == 0);
  CHECK(access("no-such-file", F_OK) == -1 && errno == ENOENT);
  CHECK(open("no-such-dir/x", O_RDONLY) == -1 && errno == ENOENT);
  CHECK(rename(name, "files-renamed.txt") == 0);
  CHECK(stat(name, &st) == -1 && errno == ENOENT);
  CHECK(stat("files-renamed.txt", &st) == 0 && st.st_size == 10);
  CHECK(link("files-renamed.txt", "files-link.txt") == 0);
  CHECK(stat("files-link.txt", &st) == 0 && st.st_nlink == 2);
  CHECK(unlink("files-link.txt") == 0);
  CHECK(unlink("files-renamed.txt") == 0);
  CHECK(unlink("files-renamed.txt") == -1 && errno == ENOENT);

  FILE *f = fopen("files-stdio.txt", "w+");
  CHECK(f != NULL);
  for (int i = 0; i < 1000; i++) fprintf(f, "line %d\n", i);
  rewind(f);
  long sum = 0;
  int v;
  while (fscanf(f, "line %d\n", &v) == 1) sum += v;
  printf("stdio sum %ld pos %ld\n", sum, ftell(f));
  fclose(f);
  unlink("files-stdio.txt");

  int devnull = open("/dev/null", O_RDWR);
  CHECK(devnull >= 0 && write(devnull, "x", 1) == 1 && read(devnull, buf, 1) == 0);
  int zero = open("/dev/zero", O_RDONLY);
  buf[0] = 1;
  CHECK(zero >= 0 && read(zero, buf, 8) == 8 && buf[0] == 0);
  printf("ok\n");
  return 0;
}
