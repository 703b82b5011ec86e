// Swapline's own minimal declaration of the ONNX Runtime C API.
//
// ONNX Runtime publishes its C API as a table of function pointers (OrtApi) that only ever
// grows at the end. We declare the functions we call at their exact zero-based slots and fill
// the gaps with padding; every slot is pinned by a compile-time assertion below and checked
// against the upstream header by scripts/check_ort_slots.py. Requesting API version 17 makes
// ONNX Runtime 1.17 the oldest library we accept (we ship and test 1.31.1).
#ifndef SWAPLINE_ORT_H
#define SWAPLINE_ORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SWAPLINE_ORT_API_VERSION 17

typedef struct OrtStatus OrtStatus;
typedef struct OrtEnv OrtEnv;
typedef struct OrtSession OrtSession;
typedef struct OrtSessionOptions OrtSessionOptions;
typedef struct OrtRunOptions OrtRunOptions;
typedef struct OrtValue OrtValue;
typedef struct OrtTypeInfo OrtTypeInfo;
typedef struct OrtTensorTypeAndShapeInfo OrtTensorTypeAndShapeInfo;
typedef struct OrtMemoryInfo OrtMemoryInfo;
typedef struct OrtAllocator OrtAllocator;
typedef struct OrtThreadingOptions OrtThreadingOptions;
typedef struct OrtCUDAProviderOptionsV2 OrtCUDAProviderOptionsV2;
typedef struct OrtTensorRTProviderOptionsV2 OrtTensorRTProviderOptionsV2;
typedef struct OrtModelMetadata OrtModelMetadata;

typedef enum OrtErrorCode {
  ORT_OK = 0,
  ORT_FAIL = 1,
  ORT_INVALID_ARGUMENT = 2,
  ORT_NO_SUCHFILE = 3,
  ORT_NO_MODEL = 4,
  ORT_ENGINE_ERROR = 5,
  ORT_RUNTIME_EXCEPTION = 6,
  ORT_INVALID_PROTOBUF = 7,
  ORT_MODEL_LOADED = 8,
  ORT_NOT_IMPLEMENTED = 9,
  ORT_INVALID_GRAPH = 10,
  ORT_EP_FAIL = 11,
} OrtErrorCode;

typedef enum OrtLoggingLevel {
  ORT_LOGGING_LEVEL_VERBOSE = 0,
  ORT_LOGGING_LEVEL_INFO = 1,
  ORT_LOGGING_LEVEL_WARNING = 2,
  ORT_LOGGING_LEVEL_ERROR = 3,
  ORT_LOGGING_LEVEL_FATAL = 4,
} OrtLoggingLevel;

typedef enum ONNXTensorElementDataType {
  ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED = 0,
  ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT = 1,
  ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 = 2,
  ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 = 3,
  ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 = 4,
  ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 = 5,
  ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 = 6,
  ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 = 7,
  ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING = 8,
  ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL = 9,
  ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 = 10,
  ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE = 11,
} ONNXTensorElementDataType;

typedef enum ONNXType {
  ONNX_TYPE_UNKNOWN = 0,
  ONNX_TYPE_TENSOR = 1,
} ONNXType;

typedef enum GraphOptimizationLevel {
  ORT_DISABLE_ALL = 0,
  ORT_ENABLE_BASIC = 1,
  ORT_ENABLE_EXTENDED = 2,
  ORT_ENABLE_ALL = 99,
} GraphOptimizationLevel;

typedef enum ExecutionMode {
  ORT_SEQUENTIAL = 0,
  ORT_PARALLEL = 1,
} ExecutionMode;

typedef enum OrtAllocatorType {
  OrtInvalidAllocator = -1,
  OrtDeviceAllocator = 0,
  OrtArenaAllocator = 1,
} OrtAllocatorType;

typedef enum OrtMemType {
  OrtMemTypeCPUInput = -2,
  OrtMemTypeCPUOutput = -1,
  OrtMemTypeDefault = 0,
} OrtMemType;

typedef OrtStatus *OrtStatusPtr;

typedef struct OrtApi OrtApi;

typedef struct OrtApiBase {
  const OrtApi *(*GetApi)(uint32_t version);
  const char *(*GetVersionString)(void);
} OrtApiBase;

#define SWAPLINE_PAD(from, to) void *_pad_##from##_##to[(to) - (from)]

struct OrtApi {
  OrtStatus *(*CreateStatus)(OrtErrorCode code, const char *msg);  // 0
  OrtErrorCode (*GetErrorCode)(const OrtStatus *status);           // 1
  const char *(*GetErrorMessage)(const OrtStatus *status);         // 2
  OrtStatusPtr (*CreateEnv)(OrtLoggingLevel log_severity_level, const char *logid, OrtEnv **out);  // 3
  SWAPLINE_PAD(4, 6);
  OrtStatusPtr (*DisableTelemetryEvents)(const OrtEnv *env);  // 6
  OrtStatusPtr (*CreateSession)(const OrtEnv *env, const char *model_path, const OrtSessionOptions *options,
                                OrtSession **out);  // 7
  OrtStatusPtr (*CreateSessionFromArray)(const OrtEnv *env, const void *model_data, size_t model_data_length,
                                         const OrtSessionOptions *options, OrtSession **out);  // 8
  OrtStatusPtr (*Run)(OrtSession *session, const OrtRunOptions *run_options, const char *const *input_names,
                      const OrtValue *const *inputs, size_t input_len, const char *const *output_names,
                      size_t output_names_len, OrtValue **outputs);  // 9
  OrtStatusPtr (*CreateSessionOptions)(OrtSessionOptions **options);  // 10
  SWAPLINE_PAD(11, 13);
  OrtStatusPtr (*SetSessionExecutionMode)(OrtSessionOptions *options, ExecutionMode execution_mode);  // 13
  SWAPLINE_PAD(14, 18);
  OrtStatusPtr (*EnableCpuMemArena)(OrtSessionOptions *options);   // 18
  OrtStatusPtr (*DisableCpuMemArena)(OrtSessionOptions *options);  // 19
  SWAPLINE_PAD(20, 23);
  OrtStatusPtr (*SetSessionGraphOptimizationLevel)(OrtSessionOptions *options,
                                                   GraphOptimizationLevel graph_optimization_level);  // 23
  OrtStatusPtr (*SetIntraOpNumThreads)(OrtSessionOptions *options, int intra_op_num_threads);  // 24
  OrtStatusPtr (*SetInterOpNumThreads)(OrtSessionOptions *options, int inter_op_num_threads);  // 25
  SWAPLINE_PAD(26, 30);
  OrtStatusPtr (*SessionGetInputCount)(const OrtSession *session, size_t *out);   // 30
  OrtStatusPtr (*SessionGetOutputCount)(const OrtSession *session, size_t *out);  // 31
  SWAPLINE_PAD(32, 33);
  OrtStatusPtr (*SessionGetInputTypeInfo)(const OrtSession *session, size_t index, OrtTypeInfo **type_info);   // 33
  OrtStatusPtr (*SessionGetOutputTypeInfo)(const OrtSession *session, size_t index, OrtTypeInfo **type_info);  // 34
  SWAPLINE_PAD(35, 36);
  OrtStatusPtr (*SessionGetInputName)(const OrtSession *session, size_t index, OrtAllocator *allocator,
                                      char **value);  // 36
  OrtStatusPtr (*SessionGetOutputName)(const OrtSession *session, size_t index, OrtAllocator *allocator,
                                       char **value);  // 37
  SWAPLINE_PAD(38, 39);
  OrtStatusPtr (*CreateRunOptions)(OrtRunOptions **out);  // 39
  SWAPLINE_PAD(40, 46);
  OrtStatusPtr (*RunOptionsSetTerminate)(OrtRunOptions *options);    // 46
  OrtStatusPtr (*RunOptionsUnsetTerminate)(OrtRunOptions *options);  // 47
  OrtStatusPtr (*CreateTensorAsOrtValue)(OrtAllocator *allocator, const int64_t *shape, size_t shape_len,
                                         ONNXTensorElementDataType type, OrtValue **out);  // 48
  OrtStatusPtr (*CreateTensorWithDataAsOrtValue)(const OrtMemoryInfo *info, void *p_data, size_t p_data_len,
                                                 const int64_t *shape, size_t shape_len,
                                                 ONNXTensorElementDataType type, OrtValue **out);  // 49
  SWAPLINE_PAD(50, 51);
  OrtStatusPtr (*GetTensorMutableData)(OrtValue *value, void **out);  // 51
  SWAPLINE_PAD(52, 55);
  OrtStatusPtr (*CastTypeInfoToTensorInfo)(const OrtTypeInfo *type_info,
                                           const OrtTensorTypeAndShapeInfo **out);  // 55
  OrtStatusPtr (*GetOnnxTypeFromTypeInfo)(const OrtTypeInfo *type_info, ONNXType *out);  // 56
  SWAPLINE_PAD(57, 60);
  OrtStatusPtr (*GetTensorElementType)(const OrtTensorTypeAndShapeInfo *info, ONNXTensorElementDataType *out);  // 60
  OrtStatusPtr (*GetDimensionsCount)(const OrtTensorTypeAndShapeInfo *info, size_t *out);  // 61
  OrtStatusPtr (*GetDimensions)(const OrtTensorTypeAndShapeInfo *info, int64_t *dim_values,
                                size_t dim_values_length);  // 62
  SWAPLINE_PAD(63, 64);
  OrtStatusPtr (*GetTensorShapeElementCount)(const OrtTensorTypeAndShapeInfo *info, size_t *out);  // 64
  OrtStatusPtr (*GetTensorTypeAndShape)(const OrtValue *value, OrtTensorTypeAndShapeInfo **out);   // 65
  SWAPLINE_PAD(66, 69);
  OrtStatusPtr (*CreateCpuMemoryInfo)(OrtAllocatorType type, OrtMemType mem_type, OrtMemoryInfo **out);  // 69
  SWAPLINE_PAD(70, 76);
  OrtStatusPtr (*AllocatorFree)(OrtAllocator *ort_allocator, void *p);  // 76
  SWAPLINE_PAD(77, 78);
  OrtStatusPtr (*GetAllocatorWithDefaultOptions)(OrtAllocator **out);  // 78
  SWAPLINE_PAD(79, 92);
  void (*ReleaseEnv)(OrtEnv *input);                                    // 92
  void (*ReleaseStatus)(OrtStatus *input);                              // 93
  void (*ReleaseMemoryInfo)(OrtMemoryInfo *input);                      // 94
  void (*ReleaseSession)(OrtSession *input);                            // 95
  void (*ReleaseValue)(OrtValue *input);                                // 96
  void (*ReleaseRunOptions)(OrtRunOptions *input);                      // 97
  void (*ReleaseTypeInfo)(OrtTypeInfo *input);                          // 98
  void (*ReleaseTensorTypeAndShapeInfo)(OrtTensorTypeAndShapeInfo *input);  // 99
  void (*ReleaseSessionOptions)(OrtSessionOptions *input);              // 100
  SWAPLINE_PAD(101, 119);
  OrtStatusPtr (*CreateEnvWithGlobalThreadPools)(OrtLoggingLevel log_severity_level, const char *logid,
                                                 const OrtThreadingOptions *tp_options, OrtEnv **out);  // 119
  OrtStatusPtr (*DisablePerSessionThreads)(OrtSessionOptions *options);  // 120
  OrtStatusPtr (*CreateThreadingOptions)(OrtThreadingOptions **out);     // 121
  void (*ReleaseThreadingOptions)(OrtThreadingOptions *input);          // 122
  SWAPLINE_PAD(123, 125);
  OrtStatusPtr (*GetAvailableProviders)(char ***out_ptr, int *provider_length);  // 125
  OrtStatusPtr (*ReleaseAvailableProviders)(char **ptr, int providers_length);   // 126
  SWAPLINE_PAD(127, 130);
  OrtStatusPtr (*AddSessionConfigEntry)(OrtSessionOptions *options, const char *config_key,
                                        const char *config_value);  // 130
  SWAPLINE_PAD(131, 147);
  OrtStatusPtr (*SetGlobalIntraOpNumThreads)(OrtThreadingOptions *tp_options, int intra_op_num_threads);  // 147
  OrtStatusPtr (*SetGlobalInterOpNumThreads)(OrtThreadingOptions *tp_options, int inter_op_num_threads);  // 148
  OrtStatusPtr (*SetGlobalSpinControl)(OrtThreadingOptions *tp_options, int allow_spinning);              // 149
  SWAPLINE_PAD(150, 170);
  OrtStatusPtr (*SessionOptionsAppendExecutionProvider_TensorRT_V2)(
      OrtSessionOptions *options, const OrtTensorRTProviderOptionsV2 *tensorrt_options);  // 170
  OrtStatusPtr (*CreateTensorRTProviderOptions)(OrtTensorRTProviderOptionsV2 **out);     // 171
  OrtStatusPtr (*UpdateTensorRTProviderOptions)(OrtTensorRTProviderOptionsV2 *tensorrt_options,
                                                const char *const *provider_options_keys,
                                                const char *const *provider_options_values,
                                                size_t num_keys);  // 172
  SWAPLINE_PAD(173, 174);
  void (*ReleaseTensorRTProviderOptions)(OrtTensorRTProviderOptionsV2 *input);  // 174
  SWAPLINE_PAD(175, 204);
  OrtStatusPtr (*SessionOptionsAppendExecutionProvider_CUDA_V2)(
      OrtSessionOptions *options, const OrtCUDAProviderOptionsV2 *cuda_options);  // 204
  OrtStatusPtr (*CreateCUDAProviderOptions)(OrtCUDAProviderOptionsV2 **out);     // 205
  OrtStatusPtr (*UpdateCUDAProviderOptions)(OrtCUDAProviderOptionsV2 *cuda_options,
                                            const char *const *provider_options_keys,
                                            const char *const *provider_options_values,
                                            size_t num_keys);  // 206
  SWAPLINE_PAD(207, 208);
  void (*ReleaseCUDAProviderOptions)(OrtCUDAProviderOptionsV2 *input);  // 208
};

// Each used slot pinned to its zero-based index in the upstream OrtApi struct. The checker
// script reads these lines, so keep one SWAPLINE_ORT_SLOT per line.
#define SWAPLINE_ORT_SLOT(name, index) \
  _Static_assert(offsetof(OrtApi, name) == (index) * sizeof(void *), "OrtApi slot " #name " moved")

SWAPLINE_ORT_SLOT(CreateStatus, 0);
SWAPLINE_ORT_SLOT(GetErrorCode, 1);
SWAPLINE_ORT_SLOT(GetErrorMessage, 2);
SWAPLINE_ORT_SLOT(CreateEnv, 3);
SWAPLINE_ORT_SLOT(DisableTelemetryEvents, 6);
SWAPLINE_ORT_SLOT(CreateSession, 7);
SWAPLINE_ORT_SLOT(CreateSessionFromArray, 8);
SWAPLINE_ORT_SLOT(Run, 9);
SWAPLINE_ORT_SLOT(CreateSessionOptions, 10);
SWAPLINE_ORT_SLOT(SetSessionExecutionMode, 13);
SWAPLINE_ORT_SLOT(EnableCpuMemArena, 18);
SWAPLINE_ORT_SLOT(DisableCpuMemArena, 19);
SWAPLINE_ORT_SLOT(SetSessionGraphOptimizationLevel, 23);
SWAPLINE_ORT_SLOT(SetIntraOpNumThreads, 24);
SWAPLINE_ORT_SLOT(SetInterOpNumThreads, 25);
SWAPLINE_ORT_SLOT(SessionGetInputCount, 30);
SWAPLINE_ORT_SLOT(SessionGetOutputCount, 31);
SWAPLINE_ORT_SLOT(SessionGetInputTypeInfo, 33);
SWAPLINE_ORT_SLOT(SessionGetOutputTypeInfo, 34);
SWAPLINE_ORT_SLOT(SessionGetInputName, 36);
SWAPLINE_ORT_SLOT(SessionGetOutputName, 37);
SWAPLINE_ORT_SLOT(CreateRunOptions, 39);
SWAPLINE_ORT_SLOT(RunOptionsSetTerminate, 46);
SWAPLINE_ORT_SLOT(RunOptionsUnsetTerminate, 47);
SWAPLINE_ORT_SLOT(CreateTensorAsOrtValue, 48);
SWAPLINE_ORT_SLOT(CreateTensorWithDataAsOrtValue, 49);
SWAPLINE_ORT_SLOT(GetTensorMutableData, 51);
SWAPLINE_ORT_SLOT(CastTypeInfoToTensorInfo, 55);
SWAPLINE_ORT_SLOT(GetOnnxTypeFromTypeInfo, 56);
SWAPLINE_ORT_SLOT(GetTensorElementType, 60);
SWAPLINE_ORT_SLOT(GetDimensionsCount, 61);
SWAPLINE_ORT_SLOT(GetDimensions, 62);
SWAPLINE_ORT_SLOT(GetTensorShapeElementCount, 64);
SWAPLINE_ORT_SLOT(GetTensorTypeAndShape, 65);
SWAPLINE_ORT_SLOT(CreateCpuMemoryInfo, 69);
SWAPLINE_ORT_SLOT(AllocatorFree, 76);
SWAPLINE_ORT_SLOT(GetAllocatorWithDefaultOptions, 78);
SWAPLINE_ORT_SLOT(ReleaseEnv, 92);
SWAPLINE_ORT_SLOT(ReleaseStatus, 93);
SWAPLINE_ORT_SLOT(ReleaseMemoryInfo, 94);
SWAPLINE_ORT_SLOT(ReleaseSession, 95);
SWAPLINE_ORT_SLOT(ReleaseValue, 96);
SWAPLINE_ORT_SLOT(ReleaseRunOptions, 97);
SWAPLINE_ORT_SLOT(ReleaseTypeInfo, 98);
SWAPLINE_ORT_SLOT(ReleaseTensorTypeAndShapeInfo, 99);
SWAPLINE_ORT_SLOT(ReleaseSessionOptions, 100);
SWAPLINE_ORT_SLOT(CreateEnvWithGlobalThreadPools, 119);
SWAPLINE_ORT_SLOT(DisablePerSessionThreads, 120);
SWAPLINE_ORT_SLOT(CreateThreadingOptions, 121);
SWAPLINE_ORT_SLOT(ReleaseThreadingOptions, 122);
SWAPLINE_ORT_SLOT(GetAvailableProviders, 125);
SWAPLINE_ORT_SLOT(ReleaseAvailableProviders, 126);
SWAPLINE_ORT_SLOT(AddSessionConfigEntry, 130);
SWAPLINE_ORT_SLOT(SetGlobalIntraOpNumThreads, 147);
SWAPLINE_ORT_SLOT(SetGlobalInterOpNumThreads, 148);
SWAPLINE_ORT_SLOT(SetGlobalSpinControl, 149);
SWAPLINE_ORT_SLOT(SessionOptionsAppendExecutionProvider_TensorRT_V2, 170);
SWAPLINE_ORT_SLOT(CreateTensorRTProviderOptions, 171);
SWAPLINE_ORT_SLOT(UpdateTensorRTProviderOptions, 172);
SWAPLINE_ORT_SLOT(ReleaseTensorRTProviderOptions, 174);
SWAPLINE_ORT_SLOT(SessionOptionsAppendExecutionProvider_CUDA_V2, 204);
SWAPLINE_ORT_SLOT(CreateCUDAProviderOptions, 205);
SWAPLINE_ORT_SLOT(UpdateCUDAProviderOptions, 206);
SWAPLINE_ORT_SLOT(ReleaseCUDAProviderOptions, 208);

// --- Loader (loader.c) -------------------------------------------------------------------

/// Opens the shared library at `path` with dlopen and resolves OrtGetApiBase. Returns NULL and
/// writes a message into `error` (size `error_size`) on failure. The handle is never closed:
/// ONNX Runtime keeps threads and static state that must outlive every session.
const OrtApiBase *swapline_ort_load(const char *path, char *error, size_t error_size);

/// The path the dynamic loader resolved for a loaded library (dladdr on OrtGetApiBase), or NULL.
const char *swapline_ort_loaded_path(const OrtApiBase *base);

#ifdef __cplusplus
}
#endif

#endif
