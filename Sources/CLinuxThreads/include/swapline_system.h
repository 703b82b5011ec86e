#ifndef SWAPLINE_SYSTEM_H
#define SWAPLINE_SYSTEM_H

/// Linux calls glibc declares only under _GNU_SOURCE, which Swift's Glibc module does not import.

/// Restricts the calling thread to the given CPUs; 0 on success, else errno.
int swapline_pin_current_thread(const int *cpus, int count);

/// Sets the calling thread's nice value; 0 on success, else errno.
int swapline_set_current_thread_niceness(int niceness);

#endif
