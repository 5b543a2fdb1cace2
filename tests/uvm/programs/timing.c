/* Time: clock_gettime (monotonic and realtime agree with gettimeofday/time), nanosleep and clock_nanosleep sleep at
 * least as long as asked, clock_getres, gmtime/strftime of fixed times, times(). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAIL line %d: %s (errno %d %s)\n", __LINE__, #x, errno, strerror(errno)); return 1; } } while (0)

static double now(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
  struct timespec res;
  CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0);
  double m0 = now(CLOCK_MONOTONIC);
  struct timespec d = {0, 120 * 1000 * 1000};
  CHECK(nanosleep(&d, NULL) == 0);
  double m1 = now(CLOCK_MONOTONIC);
  printf("nanosleep 120ms slept enough: %d\n", m1 - m0 >= 0.119);
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_nsec += 50 * 1000 * 1000;
  if (until.tv_nsec >= 1000000000) { until.tv_sec++; until.tv_nsec -= 1000000000; }
  CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == 0);
  double m2 = now(CLOCK_MONOTONIC);
  printf("absolute sleep reached: %d\n", m2 >= until.tv_sec + until.tv_nsec / 1e9 - 1e-6);
  CHECK(usleep(10000) == 0);
  struct timeval tv;
  CHECK(gettimeofday(&tv, NULL) == 0);
  double rt = now(CLOCK_REALTIME);
  time_t t = time(NULL);
  printf("realtime agrees: %d %d\n", (long)rt - tv.tv_sec <= 1, t - tv.tv_sec <= 1);
  printf("after 2020: %d\n", t > 1577836800);
  time_t fixed = 1700000000;
  struct tm tm;
  gmtime_r(&fixed, &tm);
  char s[64];
  strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S %A", &tm);
  printf("gmtime: %s\n", s);
  struct timespec bad = {0, 2000000000};
  CHECK(nanosleep(&bad, NULL) == -1 && errno == EINVAL);
  struct tms tms;
  CHECK(times(&tms) != (clock_t)-1);
  double c0 = now(CLOCK_PROCESS_CPUTIME_ID);
  volatile unsigned long x = 0;
  for (unsigned long i = 0; i < 3000000; i++) x += i;
  printf("cpu clock advances: %d\n", now(CLOCK_PROCESS_CPUTIME_ID) > c0);
  printf("ok\n");
  return 0;
}
