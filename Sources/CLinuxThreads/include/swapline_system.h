#ifndef SWAPLINE_SYSTEM_H
#define SWAPLINE_SYSTEM_H

/// Linux calls glibc declares only under _GNU_SOURCE, which Swift's Glibc module does not import.

/// Restricts the calling thread to the given CPUs; 0 on success, else errno.
int swapline_pin_current_thread(const int *cpus, int count);

/// Sets the calling thread's nice value; 0 on success, else errno.
int swapline_set_current_thread_niceness(int niceness);

/// Fixes glibc's mmap threshold at `bytes` (no dynamic raising): buffers that large are mapped
/// and returned to the system when freed. 1 on success (mallopt's convention).
int swapline_set_mmap_threshold(int bytes);

#endif
