// Transfers of a file range with the system's libcurl (libcurl.so.4, which Foundation's URLSession
// already loads), opened with dlopen: no libcurl headers are needed to build. URLSession feeds an
// upload through an InputStream 64 KiB at a time with about ten syscalls of its own dispatch per
// piece, and hands a download back as one Data; here libcurl preads an upload straight into a
// 1 MiB buffer, and a download is pwritten at its offset as it arrives.
#pragma once
#include <stddef.h>
#include <stdint.h>

// 1 when libcurl could be loaded (and has what is needed); 0 otherwise (callers fall back).
int swapline_curl_available(void);

typedef struct swapline_curl_response {
  // CURLcode: 0 when an HTTP answer came back (whatever its status).
  int curl_code;
  long status;
  // The answer's body (at most 1 MiB kept) and ETag header; free with swapline_curl_response_free.
  char *body;
  size_t body_length;
  char *etag;
  // libcurl's description of a transport failure.
  char error[256];
} swapline_curl_response;

// PUTs `count` bytes of `fd` from `offset` to `url` with `headers` ("Name: value" each), waiting
// at most `timeout_seconds` for the connection and for 1 byte/s progress over that long.
// Connections are kept in a small pool of handles and reused.
void swapline_curl_put_range(const char *url, const char *const *headers, int header_count, int fd, int64_t offset,
                             int64_t count, long timeout_seconds, swapline_curl_response *response);

// GETs `url` (with a Range header among `headers`): a 2xx body is written to `fd` from `offset`
// and must be exactly `count` bytes (else CURLE_PARTIAL_FILE); another answer's body is kept.
void swapline_curl_get_range(const char *url, const char *const *headers, int header_count, int fd, int64_t offset,
                             int64_t count, long timeout_seconds, swapline_curl_response *response);

void swapline_curl_response_free(swapline_curl_response *response);
