#include "swapline_curl.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

// The few libcurl declarations used, by value from curl/curl.h (stable ABI: options are
// type base + number, never renumbered).
typedef void CURL;
struct curl_slist;
enum {
  OPT_WRITEDATA = 10001, OPT_URL = 10002, OPT_READDATA = 10009, OPT_ERRORBUFFER = 10010, OPT_WRITEFUNCTION = 20011,
  OPT_READFUNCTION = 20012, OPT_LOW_SPEED_LIMIT = 19, OPT_LOW_SPEED_TIME = 20, OPT_HTTPHEADER = 10023,
  OPT_HEADERDATA = 10029, OPT_UPLOAD = 46, OPT_CONNECTTIMEOUT = 78, OPT_HEADERFUNCTION = 20079, OPT_NOSIGNAL = 99,
  OPT_INFILESIZE_LARGE = 30115, OPT_UPLOAD_BUFFERSIZE = 280, OPT_SEEKFUNCTION = 20167, OPT_SEEKDATA = 10168,
  INFO_RESPONSE_CODE = 0x200000 + 2,
  CODE_FAILED_INIT = 2, CODE_PARTIAL_FILE = 18, CODE_WRITE_ERROR = 23,
};
#define READFUNC_ABORT 0x10000000
#define SEEKFUNC_OK 0
#define SEEKFUNC_FAIL 1

typedef size_t (*data_callback)(char *, size_t, size_t, void *);

static struct {
  CURL *(*easy_init)(void);
  void (*easy_reset)(CURL *);
  void (*easy_cleanup)(CURL *);
  int (*easy_setopt)(CURL *, int, ...);
  int (*easy_perform)(CURL *);
  int (*easy_getinfo)(CURL *, int, ...);
  struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
  void (*slist_free_all)(struct curl_slist *);
  const char *(*easy_strerror)(int);
  int loaded;
} curl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
  void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (!library) return;
#define SYMBOL(field, name) *(void **)(&curl.field) = dlsym(library, name); if (!curl.field) return;
  SYMBOL(easy_init, "curl_easy_init")
  SYMBOL(easy_reset, "curl_easy_reset")
  SYMBOL(easy_cleanup, "curl_easy_cleanup")
  SYMBOL(easy_setopt, "curl_easy_setopt")
  SYMBOL(easy_perform, "curl_easy_perform")
  SYMBOL(easy_getinfo, "curl_easy_getinfo")
  SYMBOL(slist_append, "curl_slist_append")
  SYMBOL(slist_free_all, "curl_slist_free_all")
  SYMBOL(easy_strerror, "curl_easy_strerror")
#undef SYMBOL
  curl.loaded = 1;
}

int swapline_curl_available(void) {
  pthread_once(&load_once, load);
  return curl.loaded;
}

// Idle handles keep their connections open for the next request to the same host.
#define POOL_SIZE 8
static CURL *pool[POOL_SIZE];
static int pooled = 0;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

static CURL *take_handle(void) {
  CURL *handle = NULL;
  pthread_mutex_lock(&pool_lock);
  if (pooled > 0) handle = pool[--pooled];
  pthread_mutex_unlock(&pool_lock);
  if (handle) {
    curl.easy_reset(handle);
    return handle;
  }
  return curl.easy_init();
}

static void return_handle(CURL *handle, int reusable) {
  if (reusable) {
    pthread_mutex_lock(&pool_lock);
    if (pooled < POOL_SIZE) {
      pool[pooled++] = handle;
      handle = NULL;
    }
    pthread_mutex_unlock(&pool_lock);
  }
  if (handle) curl.easy_cleanup(handle);
}

typedef struct {
  int fd;
  int64_t start;
  int64_t position;
  int64_t end;
} range_source;

// libcurl rewinds the body when it sends it again (a reused connection found dead).
static int seek_range(void *context, int64_t offset, int origin) {
  range_source *source = context;
  if (origin != SEEK_SET || offset < 0 || offset > source->end - source->start) return SEEKFUNC_FAIL;
  source->position = source->start + offset;
  return SEEKFUNC_OK;
}

static size_t read_range(char *buffer, size_t size, size_t items, void *context) {
  range_source *source = context;
  size_t wanted = size * items;
  if ((int64_t)wanted > source->end - source->position) wanted = (size_t)(source->end - source->position);
  if (wanted == 0) return 0;
  ssize_t got;
  do { got = pread(source->fd, buffer, wanted, source->position); } while (got < 0 && errno == EINTR);
  // A file that shrank under us, or an I/O error: abort rather than send short.
  if (got <= 0) return READFUNC_ABORT;
  source->position += got;
  return (size_t)got;
}

#define BODY_LIMIT (1 << 20)

static size_t keep_body(char *data, size_t size, size_t items, void *context) {
  swapline_curl_response *response = context;
  size_t length = size * items;
  size_t kept = length;
  if (response->body_length + kept > BODY_LIMIT) kept = BODY_LIMIT - response->body_length;
  if (kept > 0) {
    char *grown = realloc(response->body, response->body_length + kept + 1);
    if (!grown) return 0;
    memcpy(grown + response->body_length, data, kept);
    response->body = grown;
    response->body_length += kept;
    response->body[response->body_length] = 0;
  }
  return length;
}

static size_t keep_etag(char *data, size_t size, size_t items, void *context) {
  swapline_curl_response *response = context;
  size_t length = size * items;
  if (length > 5 && strncasecmp(data, "ETag:", 5) == 0) {
    size_t start = 5, end = length;
    while (start < end && (data[start] == ' ' || data[start] == '\t')) start++;
    while (end > start && (data[end - 1] == '\r' || data[end - 1] == '\n' || data[end - 1] == ' ')) end--;
    free(response->etag);
    response->etag = strndup(data + start, end - start);
  }
  return length;
}

typedef struct {
  swapline_curl_response *response;
  CURL *handle;
  int fd;
  int64_t position;
  int64_t end;
  int write_failed;
} range_sink;

// A 2xx body goes to the file at its offset; any other answer's body (an S3 error) is kept.
static size_t write_range(char *data, size_t size, size_t items, void *context) {
  range_sink *sink = context;
  size_t length = size * items;
  long status = 0;
  curl.easy_getinfo(sink->handle, INFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) return keep_body(data, size, items, sink->response);
  // More than asked for is a server fault: stop rather than write past the range.
  if ((int64_t)length > sink->end - sink->position) return 0;
  size_t done = 0;
  while (done < length) {
    ssize_t wrote = pwrite(sink->fd, data + done, length - done, sink->position);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) {
      sink->write_failed = errno ? errno : EIO;
      return 0;
    }
    done += (size_t)wrote;
    sink->position += wrote;
  }
  return length;
}

static void transfer(int upload, const char *url, const char *const *headers, int header_count, int fd, int64_t offset,
                     int64_t count, long timeout_seconds, swapline_curl_response *response) {
  memset(response, 0, sizeof *response);
  if (!swapline_curl_available()) {
    response->curl_code = CODE_FAILED_INIT;
    strcpy(response->error, "libcurl.so.4 could not be loaded");
    return;
  }
  CURL *handle = take_handle();
  if (!handle) {
    response->curl_code = CODE_FAILED_INIT;
    strcpy(response->error, "curl_easy_init failed");
    return;
  }
  struct curl_slist *list = NULL;
  for (int index = 0; index < header_count; index++) list = curl.slist_append(list, headers[index]);
  // No "Expect: 100-continue" round trip before each part.
  if (upload) list = curl.slist_append(list, "Expect:");
  range_source source = {fd, offset, offset, offset + count};
  range_sink sink = {response, handle, fd, offset, offset + count, 0};
  curl.easy_setopt(handle, OPT_URL, url);
  if (upload) {
    curl.easy_setopt(handle, OPT_UPLOAD, 1L);
    curl.easy_setopt(handle, OPT_INFILESIZE_LARGE, (int64_t)count);
    curl.easy_setopt(handle, OPT_READFUNCTION, (data_callback)read_range);
    curl.easy_setopt(handle, OPT_READDATA, &source);
    curl.easy_setopt(handle, OPT_SEEKFUNCTION, (int (*)(void *, int64_t, int))seek_range);
    curl.easy_setopt(handle, OPT_SEEKDATA, &source);
    curl.easy_setopt(handle, OPT_UPLOAD_BUFFERSIZE, 1L << 20);
    curl.easy_setopt(handle, OPT_WRITEFUNCTION, (data_callback)keep_body);
    curl.easy_setopt(handle, OPT_WRITEDATA, response);
  } else {
    curl.easy_setopt(handle, OPT_WRITEFUNCTION, (data_callback)write_range);
    curl.easy_setopt(handle, OPT_WRITEDATA, &sink);
  }
  curl.easy_setopt(handle, OPT_HTTPHEADER, list);
  curl.easy_setopt(handle, OPT_HEADERFUNCTION, (data_callback)keep_etag);
  curl.easy_setopt(handle, OPT_HEADERDATA, response);
  curl.easy_setopt(handle, OPT_ERRORBUFFER, response->error);
  curl.easy_setopt(handle, OPT_NOSIGNAL, 1L);
  curl.easy_setopt(handle, OPT_CONNECTTIMEOUT, timeout_seconds);
  curl.easy_setopt(handle, OPT_LOW_SPEED_LIMIT, 1L);
  curl.easy_setopt(handle, OPT_LOW_SPEED_TIME, timeout_seconds);
  response->curl_code = curl.easy_perform(handle);
  if (response->curl_code == 0) {
    curl.easy_getinfo(handle, INFO_RESPONSE_CODE, &response->status);
    if (!upload && response->status >= 200 && response->status < 300 && sink.position != sink.end) {
      response->curl_code = CODE_PARTIAL_FILE;
      snprintf(response->error, sizeof response->error, "got %lld of %lld bytes", (long long)(sink.position - offset),
               (long long)count);
    }
  } else if (sink.write_failed) {
    snprintf(response->error, sizeof response->error, "cannot write the downloaded bytes: %s", strerror(sink.write_failed));
  } else if (response->error[0] == 0) {
    strncpy(response->error, curl.easy_strerror(response->curl_code), sizeof response->error - 1);
  }
  // The error buffer lives in `response`: the pooled handle must not keep pointing at it.
  curl.easy_setopt(handle, OPT_ERRORBUFFER, (char *)NULL);
  curl.slist_free_all(list);
  return_handle(handle, response->curl_code == 0);
}

void swapline_curl_put_range(const char *url, const char *const *headers, int header_count, int fd, int64_t offset,
                             int64_t count, long timeout_seconds, swapline_curl_response *response) {
  transfer(1, url, headers, header_count, fd, offset, count, timeout_seconds, response);
}

void swapline_curl_get_range(const char *url, const char *const *headers, int header_count, int fd, int64_t offset,
                             int64_t count, long timeout_seconds, swapline_curl_response *response) {
  transfer(0, url, headers, header_count, fd, offset, count, timeout_seconds, response);
}

void swapline_curl_response_free(swapline_curl_response *response) {
  free(response->body);
  free(response->etag);
  response->body = NULL;
  response->etag = NULL;
}
