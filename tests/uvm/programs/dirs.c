/* Directories: mkdir/rmdir/chdir/getcwd/readdir/symlink/readlink/rename of a directory, nested removal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAIL line %d: %s (errno %d %s)\n", __LINE__, #x, errno, strerror(errno)); return 1; } } while (0)

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *path) {
  DIR *d = opendir(path);
  if (!d) { printf("opendir %s: %s\n", path, strerror(errno)); return; }
  char *names[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && n < 64) {
    char t = e->d_type == DT_DIR ? 'd' : e->d_type == DT_REG ? 'f' : e->d_type == DT_LNK ? 'l' : '?';
    char *s = malloc(strlen(e->d_name) + 3);
    sprintf(s, "%s:%c", e->d_name, t);
    names[n++] = s;
  }
  closedir(d);
  qsort(names, n, sizeof names[0], cmp);
  printf("%s:", path);
  for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
  printf("\n");
}

int main(void) {
  char cwd[4096];
  CHECK(getcwd(cwd, sizeof cwd) != NULL);
  CHECK(mkdir("dtest", 0755) == 0);
  CHECK(mkdir("dtest", 0755) == -1 && errno == EEXIST);
  CHECK(mkdir("dtest/sub", 0700) == 0);
  CHECK(mkdir("dtest/sub/deeper", 0700) == 0);
  int fd = open("dtest/a.txt", O_CREAT | O_WRONLY, 0644);
  CHECK(fd >= 0 && write(fd, "aaaa", 4) == 4 && close(fd) == 0);
  fd = open("dtest/sub/b.txt", O_CREAT | O_WRONLY, 0644);
  CHECK(fd >= 0 && close(fd) == 0);
  CHECK(symlink("a.txt", "dtest/link") == 0);
  CHECK(symlink("/nonexistent/target", "dtest/dangling") == 0);
  char buf[256];
  ssize_t n = readlink("dtest/link", buf, sizeof buf);
  CHECK(n == 5);
  printf("readlink: %.*s\n", (int)n, buf);
  struct stat st;
  CHECK(stat("dtest/link", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 4);
  CHECK(lstat("dtest/link", &st) == 0 && S_ISLNK(st.st_mode));
  CHECK(stat("dtest/dangling", &st) == -1 && errno == ENOENT);
  CHECK(lstat("dtest/dangling", &st) == 0);
  list("dtest");
  list("dtest/sub");
  CHECK(chdir("dtest/sub") == 0);
  char here[4096];
  CHECK(getcwd(here, sizeof here) != NULL);
  printf("cwd suffix ok: %d\n", strlen(here) == strlen(cwd) + strlen("/dtest/sub") && strcmp(here + strlen(cwd), "/dtest/sub") == 0);
  CHECK(stat("../a.txt", &st) == 0 && st.st_size == 4);
  CHECK(chdir("deeper/../..") == 0);
  CHECK(rmdir("sub") == -1 && errno == ENOTEMPTY);
  CHECK(rename("sub", "moved") == 0);
  list(".");
  int dfd = open("moved", O_RDONLY | O_DIRECTORY);
  CHECK(dfd >= 0);
  CHECK(fstatat(dfd, "b.txt", &st, 0) == 0 && S_ISREG(st.st_mode));
  CHECK(unlinkat(dfd, "b.txt", 0) == 0);
  CHECK(unlinkat(dfd, "deeper", AT_REMOVEDIR) == 0);
  CHECK(openat(dfd, "a.txt", O_RDONLY) == -1 && errno == ENOENT);
  CHECK(fchdir(dfd) == 0);
  CHECK(chdir("..") == 0);
  close(dfd);
  CHECK(rmdir("moved") == 0);
  CHECK(open("a.txt/x", O_RDONLY) == -1 && errno == ENOTDIR);
  CHECK(unlink("link") == 0 && unlink("dangling") == 0 && unlink("a.txt") == 0);
  CHECK(chdir("..") == 0);
  CHECK(rmdir("dtest") == 0);
  CHECK(opendir("dtest") == NULL && errno == ENOENT);
  printf("ok\n");
  return 0;
}
