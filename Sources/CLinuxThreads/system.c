#define _GNU_SOURCE
#include "swapline_system.h"
#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

int swapline_pin_current_thread(const int *cpus, int count) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int i = 0; i < count; i++) {
    if (cpus[i] >= 0 && cpus[i] < CPU_SETSIZE) CPU_SET(cpus[i], &set);
  }
  return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : errno;
}

int swapline_set_current_thread_niceness(int niceness) {
  return setpriority(PRIO_PROCESS, (id_t)gettid(), niceness) == 0 ? 0 : errno;
}

int swapline_set_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }
