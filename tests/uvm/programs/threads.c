/* Threads: a bounded-buffer producer/consumer with a mutex and two condition variables, worker threads summing
 * with a mutex, pthread_once, a barrier, thread-local storage, pthread_join return values, detached threads. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAIL line %d: %s (errno %d %s)\n", __LINE__, #x, errno, strerror(errno)); return 1; } } while (0)

#define SLOTS 8
#define ITEMS 5000
#define PRODUCERS 3
#define CONSUMERS 4

static int buf[SLOTS];
static int head, count, produced_done;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static long long consumed_sum;
static int consumed_n;

static void *producer(void *arg) {
  int id = (int)(long)arg;
  for (int i = 0; i < ITEMS; i++) {
    pthread_mutex_lock(&mu);
    while (count == SLOTS) pthread_cond_wait(&not_full, &mu);
    buf[(head + count) % SLOTS] = id * ITEMS + i;
    count++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&mu);
  }
  pthread_mutex_lock(&mu);
  produced_done++;
  pthread_cond_broadcast(&not_empty);
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void *consumer(void *arg) {
  long n = 0;
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&mu);
    while (count == 0 && produced_done < PRODUCERS) pthread_cond_wait(&not_empty, &mu);
    if (count == 0) {
      pthread_mutex_unlock(&mu);
      break;
    }
    int v = buf[head];
    head = (head + 1) % SLOTS;
    count--;
    consumed_sum += v;
    consumed_n++;
    n++;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&mu);
  }
  return (void *)n;
}

static __thread int tls_value = 7;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_count;
static void once_fn(void) { once_count++; }
static pthread_barrier_t barrier;
static int phase[4];

static void *worker(void *arg) {
  int id = (int)(long)arg;
  tls_value = id * 100;
  pthread_once(&once, once_fn);
  phase[id] = 1;
  pthread_barrier_wait(&barrier);
  int all = phase[0] + phase[1] + phase[2] + phase[3];
  usleep(1000 * id);
  return (void *)(long)(tls_value + all);
}

static volatile int detached_ran;
static void *detached(void *arg) {
  (void)arg;
  detached_ran = 1;
  return NULL;
}

int main(void) {
  pthread_t p[PRODUCERS], c[CONSUMERS];
  for (long i = 0; i < PRODUCERS; i++) CHECK(pthread_create(&p[i], NULL, producer, (void *)i) == 0);
  for (long i = 0; i < CONSUMERS; i++) CHECK(pthread_create(&c[i], NULL, consumer, NULL) == 0);
  for (int i = 0; i < PRODUCERS; i++) CHECK(pthread_join(p[i], NULL) == 0);
  long total = 0;
  for (int i = 0; i < CONSUMERS; i++) {
    void *r;
    CHECK(pthread_join(c[i], &r) == 0);
    total += (long)r;
  }
  long long expect = 0;
  for (long long i = 0; i < PRODUCERS * ITEMS; i++) expect += i;
  printf("consumed %d items (joined %ld), sum %lld, expected %lld\n", consumed_n, total, consumed_sum, expect);

  CHECK(pthread_barrier_init(&barrier, NULL, 4) == 0);
  pthread_t w[4];
  for (long i = 0; i < 4; i++) CHECK(pthread_create(&w[i], NULL, worker, (void *)i) == 0);
  for (int i = 0; i < 4; i++) {
    void *r;
    CHECK(pthread_join(w[i], &r) == 0);
    printf("worker %d -> %ld\n", i, (long)r);
  }
  printf("once %d, main tls %d\n", once_count, tls_value);
  pthread_t d;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  CHECK(pthread_create(&d, &attr, detached, NULL) == 0);
  while (!detached_ran) sched_yield();
  pthread_mutex_t m2;
  CHECK(pthread_mutex_init(&m2, NULL) == 0);
  CHECK(pthread_mutex_trylock(&m2) == 0);
  CHECK(pthread_mutex_trylock(&m2) == EBUSY);
  CHECK(pthread_mutex_unlock(&m2) == 0);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 20 * 1000 * 1000;
  if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
  pthread_mutex_lock(&mu);
  int rc = pthread_cond_timedwait(&not_empty, &mu, &ts);
  pthread_mutex_unlock(&mu);
  printf("timedwait: %s\n", rc == ETIMEDOUT ? "ETIMEDOUT" : strerror(rc));
  printf("ok\n");
  return 0;
}
