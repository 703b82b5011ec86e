#define _GNU_SOURCE
#include "swapline_ort.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef const OrtApiBase *(*GetApiBaseFunction)(void);

const OrtApiBase *swapline_ort_load(const char *path, char *error, size_t error_size) {
  // RTLD_LOCAL keeps ORT's bundled protobuf/abseil symbols out of the global namespace.
  // The PyPI builds start Microsoft's 1DS telemetry when the library initialises (a device id and
  // an event queue under ~/.cache/Microsoft/DeveloperTools/.onnxruntime, uploads when online);
  // DisableTelemetryEvents comes too late for the first event. This variable stops it before
  // it starts. Swapline is an offline tool: always off.
  setenv("ORT_DISABLE_TELEMETRY", "1", 1);
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    const char *message = dlerror();
    snprintf(error, error_size, "%s", message ? message : "dlopen failed");
    return NULL;
  }
  GetApiBaseFunction get_api_base = (GetApiBaseFunction)dlsym(handle, "OrtGetApiBase");
  if (get_api_base == NULL) {
    snprintf(error, error_size, "%s does not export OrtGetApiBase (not an ONNX Runtime library?)", path);
    return NULL;
  }
  const OrtApiBase *base = get_api_base();
  if (base == NULL) {
    snprintf(error, error_size, "OrtGetApiBase returned NULL");
  }
  return base;
}

const char *swapline_ort_loaded_path(const OrtApiBase *base) {
  Dl_info info;
  if (base == NULL || base->GetApi == NULL) return NULL;
  if (dladdr((const void *)base->GetApi, &info) == 0) return NULL;
  return info.dli_fname;
}
