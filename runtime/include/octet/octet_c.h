#ifndef OCTET_OCTET_C_H
#define OCTET_OCTET_C_H

/* octet's C API: int8 CNN inference for applications in C and for other languages' bindings (a C ABI).
 * It wraps the C++ API of octet.h and keeps its rules; docs/c_api.md shows it in use.
 *
 *   octet_model* model = NULL;
 *   octet_session* session = NULL;
 *   octet_tensor* image = NULL;
 *   const octet_tensor* logits = NULL;
 *   const int64_t shape[] = {1, 1, 28, 28};
 *   if (octet_model_load("net_int8.onnx", NULL, &model) != OCTET_OK ||
 *       octet_session_create(model, NULL, &session) != OCTET_OK ||
 *       octet_tensor_create_float32(shape, 4, pixels, 784, &image) != OCTET_OK ||
 *       octet_session_run(session, (const char* const[]){"input"}, (const octet_tensor* const[]){image}, 1,
 *                         NULL, 1, 0, &logits) != OCTET_OK)
 *     fprintf(stderr, "octet: %s\n", octet_last_error());
 *   ...
 *   octet_tensor_destroy(image);
 *   octet_session_destroy(session);
 *   octet_model_destroy(model);
 *
 * Errors. Every function that can fail returns an octet_status: OCTET_OK (0) or an error code. The text of
 * the failure (octet's own message, naming the node, tensor or argument at fault) is then
 * octet_last_error(), kept per thread. Nothing is written to an output argument of a failed call except
 * NULL (for a handle). A NULL handle or pointer argument is OCTET_ERROR_INVALID_ARGUMENT, never a crash.
 *
 * Ownership. The caller owns exactly what it created: a handle from *_create or octet_model_load* (and
 * octet_tensor_copy) until it passes it to the matching *_destroy (which accepts NULL). Everything else
 * that octet hands out (names, shape arrays, the output tensors and profile of a run, data pointers) is
 * octet's, valid for as long as the function that returned it states, and must not be freed.
 *
 * Threads. A model is immutable: any number of threads may read it and create sessions from it at the
 * same time, and a model may be destroyed while its sessions live on (they share what they need). A
 * session is used by one thread at a time (different sessions run in parallel); a run that overlaps
 * another on the same session is refused with OCTET_ERROR_INVALID_ARGUMENT. Tensors may be read by
 * several threads at once (an input tensor may feed runs of several sessions concurrently). Options
 * objects are read when a model is loaded or a session created and may be destroyed right after. */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status and errors ---------------------------------------------------------------------------- */

typedef enum octet_status {
  OCTET_OK = 0,
  /* A NULL handle or pointer, an index out of range, an invalid option value (negative threads, an
   * unknown requantization mode, an instruction set this CPU does not run), data that does not match a
   * tensor's shape, an unknown output name, or session options a model cannot run with (the activations of
   * its fixed input shapes exceed max_arena_bytes). */
  OCTET_ERROR_INVALID_ARGUMENT = 1,
  /* A model could not be loaded: the file is missing or unreadable, the bytes are not a valid ONNX model,
   * or the model uses something octet does not support. */
  OCTET_ERROR_MODEL = 2,
  /* The inputs of a run do not fit the model: an unknown or missing input name, a wrong dtype, rank or
   * dimension, wrong quantization parameters, shapes the model cannot compute, or shapes whose activations
   * exceed the session's max_arena_bytes. */
  OCTET_ERROR_INVALID_INPUT = 3,
  /* Memory ran out. */
  OCTET_ERROR_OUT_OF_MEMORY = 4,
  /* A failure octet did not expect: a bug; the message says what failed. */
  OCTET_ERROR_INTERNAL = 5
} octet_status;

/* The text of the most recent failure of an octet call on the calling thread ("" if there was none).
 * Successful calls leave it as it is. The string is valid until the next failing octet call on this
 * thread; never NULL. */
const char* octet_last_error(void);

/* The name of a status, e.g. "OCTET_ERROR_MODEL" ("unknown status" for other values); never NULL. */
const char* octet_status_name(octet_status status);

/* ---- Library -------------------------------------------------------------------------------------- */

/* octet's version, e.g. "0.1.0"; a static string. */
const char* octet_version(void);

/* The instruction sets this CPU runs octet's kernels with, slowest first (e.g. "scalar", "avx2",
 * "avx512vnni"): the names octet_session_options_set_isa accepts. *names is a static array of *count
 * static strings. */
octet_status octet_available_isas(const char* const** names, size_t* count);

/* The instruction set sessions use when their options name none: the fastest this CPU runs, or the one
 * the OCTET_ISA environment variable names (an error if that is not one of octet_available_isas()).
 * *name is a static string. */
octet_status octet_default_isa(const char** name);

/* ---- Types ---------------------------------------------------------------------------------------- */

/* Element types of inputs and outputs. Bool tensors hold one byte per element, 0 or 1. */
typedef enum octet_dtype {
  OCTET_FLOAT32 = 0,
  OCTET_UINT8 = 1,
  OCTET_INT64 = 2,
  OCTET_BOOL = 3,
  OCTET_INT32 = 4
} octet_dtype;

/* How quantized operators turn int32 accumulators into 8-bit outputs (docs/quantization.md): a Q31
 * fixed-point multiplier (the default), or ONNX Runtime's float32 scale, which gives its output bytes. */
typedef enum octet_requantization {
  OCTET_REQUANTIZATION_FIXED_POINT = 0,
  OCTET_REQUANTIZATION_FLOAT_SCALE = 1
} octet_requantization;

/* Opaque handles. */
typedef struct octet_load_options octet_load_options;
typedef struct octet_model octet_model;
typedef struct octet_session_options octet_session_options;
typedef struct octet_session octet_session;
typedef struct octet_tensor octet_tensor;

/* ---- Tensors -------------------------------------------------------------------------------------- */

/* Create a tensor of the given shape (rank dimensions, each >= 0; rank 0 is a scalar and shape may then be
 * NULL) from `count` elements of data, which must be the product of the dimensions. The data is copied:
 * the caller's buffer may be reused at once. data may be NULL when count is 0. Image tensors are in the
 * model's layout (NCHW for ONNX models) unless the model was loaded with nhwc_io. */
octet_status octet_tensor_create_float32(const int64_t* shape, size_t rank, const float* data, size_t count,
                                         octet_tensor** out);
/* Quantized data: real = scale * (q - zero_point). A uint8 input must carry the parameters the model
 * expects for it (octet_tensor_info's), or scale 0 to mean "the model's parameters". */
octet_status octet_tensor_create_uint8(const int64_t* shape, size_t rank, const uint8_t* data, size_t count,
                                       float scale, int32_t zero_point, octet_tensor** out);
octet_status octet_tensor_create_int64(const int64_t* shape, size_t rank, const int64_t* data, size_t count,
                                       octet_tensor** out);
octet_status octet_tensor_create_int32(const int64_t* shape, size_t rank, const int32_t* data, size_t count,
                                       octet_tensor** out);
/* One byte per element; any non-zero byte means true (stored as 1). */
octet_status octet_tensor_create_bool(const int64_t* shape, size_t rank, const uint8_t* data, size_t count,
                                      octet_tensor** out);

/* A new tensor with the same dtype, shape, data and quantization parameters, owned by the caller: the way
 * to keep an output of a run past the session's next run. */
octet_status octet_tensor_copy(const octet_tensor* tensor, octet_tensor** out);

/* Destroys a tensor the caller created or copied. NULL is ignored, and so is an output tensor of a run
 * (the session owns those; octet_session_run's outputs are `const` for that reason). */
void octet_tensor_destroy(octet_tensor* tensor);

octet_status octet_tensor_dtype(const octet_tensor* tensor, octet_dtype* dtype);
octet_status octet_tensor_rank(const octet_tensor* tensor, size_t* rank);
/* *dims points to rank dimensions (NULL for a scalar), valid as long as the tensor. */
octet_status octet_tensor_dims(const octet_tensor* tensor, const int64_t** dims);
octet_status octet_tensor_element_count(const octet_tensor* tensor, int64_t* count);
/* The elements, C order, as float / uint8_t / int64_t / uint8_t (0 or 1) / int32_t for the tensor's dtype
 * (OCTET_FLOAT32, OCTET_UINT8, OCTET_INT64, OCTET_BOOL, OCTET_INT32); valid as long as the tensor. May be
 * NULL for a tensor of zero elements. */
octet_status octet_tensor_data(const octet_tensor* tensor, const void** data);
octet_status octet_tensor_byte_size(const octet_tensor* tensor, size_t* bytes);
/* uint8 tensors: their quantization parameters (scale 0 for a tensor created without them); 0 and 0 for
 * the other dtypes. */
octet_status octet_tensor_quantization(const octet_tensor* tensor, float* scale, int32_t* zero_point);

/* ---- Models --------------------------------------------------------------------------------------- */

/* Load options; a new object holds the defaults (NCHW image tensors, fixed-point requantization, no input
 * shapes given). */
octet_status octet_load_options_create(octet_load_options** out);
void octet_load_options_destroy(octet_load_options* options);
/* Non-zero: the caller's image tensors are channel-last (NHWC), so no layout change at the boundary. */
octet_status octet_load_options_set_nhwc_io(octet_load_options* options, int nhwc_io);
/* The requantization the load-time program is prepared for; sessions choose their own. */
octet_status octet_load_options_set_requantization(octet_load_options* options, octet_requantization mode);
/* The shape to compile input `name` for at load, for a model with dynamic dimensions, in the layout of
 * the caller's tensors (NHWC for images with nhwc_io); other shapes still run (each compiles on first
 * use). Setting a name again replaces its shape. */
octet_status octet_load_options_set_input_shape(octet_load_options* options, const char* name,
                                                const int64_t* shape, size_t rank);

/* Load a model from an ONNX file, or from `size` bytes in memory (copied: the buffer may be freed after the
 * call). options may be NULL for the defaults. */
octet_status octet_model_load(const char* path, const octet_load_options* options, octet_model** out);
octet_status octet_model_load_from_memory(const void* data, size_t size, const octet_load_options* options,
                                          octet_model** out);
void octet_model_destroy(octet_model* model);

/* An input or output of a model. Every pointer in it is owned by the model and valid until
 * octet_model_destroy. */
typedef struct octet_tensor_info {
  const char* name;
  octet_dtype dtype;
  size_t rank;
  const int64_t* dims;          /* rank entries (NULL if rank is 0); -1 for a dynamic dimension */
  const char* const* dim_names; /* rank entries: a dynamic dimension's symbolic name, "" otherwise */
  float scale;                  /* uint8 tensors: their quantization parameters; 0 otherwise */
  int32_t zero_point;
} octet_tensor_info;

octet_status octet_model_input_count(const octet_model* model, size_t* count);
octet_status octet_model_output_count(const octet_model* model, size_t* count);
octet_status octet_model_input_info(const octet_model* model, size_t index, octet_tensor_info* info);
octet_status octet_model_output_info(const octet_model* model, size_t index, octet_tensor_info* info);

/* ---- Sessions ------------------------------------------------------------------------------------- */

/* Session options; a new object holds the defaults (1 thread, no arena limit, fixed-point
 * requantization, the default instruction set). */
octet_status octet_session_options_create(octet_session_options** out);
void octet_session_options_destroy(octet_session_options* options);
/* Worker threads of the session's own thread pool, >= 0 (0: all cores). */
octet_status octet_session_options_set_threads(octet_session_options* options, int threads);
/* Refuse input shapes whose activations need more than `bytes` (>= 0; 0: no limit). */
octet_status octet_session_options_set_max_arena_bytes(octet_session_options* options, int64_t bytes);
octet_status octet_session_options_set_requantization(octet_session_options* options,
                                                      octet_requantization mode);
/* The instruction set of the session's kernels: one of octet_available_isas(), or "" (or NULL) for the
 * default: the fastest this CPU runs, or the one the OCTET_ISA environment variable names. Outputs are
 * the same bytes whatever the instruction set. */
octet_status octet_session_options_set_isa(octet_session_options* options, const char* isa);
/* A Loop that would run more than `iterations` iterations fails the run (>= 0; 0: no limit). */
octet_status octet_session_options_set_max_loop_iterations(octet_session_options* options,
                                                           int64_t iterations);

/* Creates a session of a model; options may be NULL for the defaults. */
octet_status octet_session_create(const octet_model* model, const octet_session_options* options,
                                  octet_session** out);
/* Destroys a session and the outputs and profile of its last run. NULL is ignored. */
void octet_session_destroy(octet_session* session);

/* Flags of octet_session_run (macros of type uint32_t rather than an enum, so that C++ callers may or
 * them together without conversions). */
/* Return uint8 outputs with their quantization parameters instead of dequantizing them to float. */
#define OCTET_RUN_QUANTIZED_OUTPUTS UINT32_C(1)
/* Time every operator of the run: octet_session_profile_count / _node then describe it. */
#define OCTET_RUN_PROFILE UINT32_C(2)

/* Runs the model on `input_count` inputs, input_names[i] naming inputs[i]. Every input of the model must
 * be given once, with its dtype (or uint8 data for a float input the model quantizes) and shape (dynamic
 * dimensions may take any size the model allows).
 *
 * Outputs: with output_names, the `output_count` outputs so named, in that order; with output_names NULL,
 * all outputs in the model's order, and output_count must be octet_model_output_count's. outputs[i]
 * receives the i-th: a tensor owned by the session, valid until the session's next octet_session_run
 * (successful or not) or its destruction; octet_tensor_copy keeps one longer. On failure every outputs[i]
 * is set to NULL. flags: 0 or OCTET_RUN_* values or-ed together. */
octet_status octet_session_run(octet_session* session, const char* const* input_names,
                               const octet_tensor* const* inputs, size_t input_count,
                               const char* const* output_names, size_t output_count, uint32_t flags,
                               const octet_tensor** outputs);

/* The per-operator profile of the session's last run with OCTET_RUN_PROFILE: the operators in execution
 * order (0 of them after a run without the flag). For the index-th: its ONNX node's name, octet's operator
 * (e.g. "conv") and its time in seconds. The strings are valid until the session's next run or its
 * destruction; any of name, op and seconds may be NULL when not wanted. */
octet_status octet_session_profile_count(const octet_session* session, size_t* count);
octet_status octet_session_profile_node(const octet_session* session, size_t index, const char** name,
                                        const char** op, double* seconds);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OCTET_OCTET_C_H */
