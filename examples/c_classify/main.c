/* Classifies images with an int8 ONNX model through octet's C API: loads the model, runs it on each image
 * of a NumPy file (float32, shape [N, ...] with the model's input shape after the batch dimension) and
 * prints the class with the highest score, next to the true label when a labels file is given.
 * Usage: c_classify MODEL.onnx IMAGES.npy [LABELS.npy]
 * e.g. (from the repository root, samples=models/fashion_mnist/samples)
 *   c_classify models/fashion_mnist/fashion_mnist_int8_qdq.onnx $samples/images.npy $samples/labels.npy
 * Every octet call's status is checked; a failure prints octet's message and exits with status 1. */

#include <octet/octet_c.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A NumPy array as this example reads it: little-endian float32 ("<f4"), uint8 ("|u1") or int64 ("<i8")
 * elements in C order. */
typedef struct npy_array {
  char dtype[4];
  size_t rank;
  int64_t shape[8];
  size_t count;
  void* data;
} npy_array;

/* Reads `path` into `array` (data allocated with malloc); returns 0 on success, -1 with a message. */
static int npy_read(const char* path, npy_array* array) {
  const uint16_t probe = 1;
  FILE* file = NULL;
  unsigned char preamble[10];
  char header[1024];
  size_t header_size = 0, element_size = 0;
  const char* field = NULL;
  memset(array, 0, sizeof *array);
  if (*(const unsigned char*)&probe != 1) {
    fprintf(stderr, "%s: this example reads .npy files on little-endian machines only\n", path);
    return -1;
  }
  file = fopen(path, "rb");
  if (file == NULL) {
    fprintf(stderr, "%s: cannot open\n", path);
    return -1;
  }
  /* Format version 1: magic, version, 2-byte header length; the header is a Python dict literal. */
  if (fread(preamble, 1, sizeof preamble, file) != sizeof preamble ||
      memcmp(preamble, "\x93NUMPY\x01", 7) != 0) {
    fprintf(stderr, "%s: not a version 1 .npy file\n", path);
    goto fail;
  }
  header_size = (size_t)preamble[8] | ((size_t)preamble[9] << 8);
  if (header_size >= sizeof header || fread(header, 1, header_size, file) != header_size) {
    fprintf(stderr, "%s: bad .npy header\n", path);
    goto fail;
  }
  header[header_size] = '\0';
  field = strstr(header, "'descr': '");
  if (field == NULL || strstr(header, "'fortran_order': False") == NULL) {
    fprintf(stderr, "%s: not a C-order array\n", path);
    goto fail;
  }
  memcpy(array->dtype, field + 10, 3);
  if (strcmp(array->dtype, "<f4") == 0)
    element_size = 4;
  else if (strcmp(array->dtype, "|u1") == 0)
    element_size = 1;
  else if (strcmp(array->dtype, "<i8") == 0)
    element_size = 8;
  else {
    fprintf(stderr, "%s: element type '%s' is not float32, uint8 or int64\n", path, array->dtype);
    goto fail;
  }
  field = strstr(header, "'shape': (");
  if (field == NULL) {
    fprintf(stderr, "%s: no shape in the .npy header\n", path);
    goto fail;
  }
  field += 10;
  array->count = 1;
  while (*field != ')') {
    char* end = NULL;
    const long long dim = strtoll(field, &end, 10);
    if (end == field || dim < 0 || array->rank == 8) {
      fprintf(stderr, "%s: bad shape in the .npy header\n", path);
      goto fail;
    }
    /* The byte count below must not wrap: a header may claim any shape. */
    if (dim != 0 && array->count > (SIZE_MAX - 1) / element_size / (size_t)dim) {
      fprintf(stderr, "%s: the shape in the .npy header is too large\n", path);
      goto fail;
    }
    array->shape[array->rank++] = (int64_t)dim;
    array->count *= (size_t)dim;
    field = end;
    while (*field == ',' || *field == ' ')
      ++field;
  }
  array->data = malloc(array->count * element_size + 1);
  if (array->data == NULL || fread(array->data, element_size, array->count, file) != array->count) {
    fprintf(stderr, "%s: cannot read %zu elements\n", path, array->count);
    free(array->data);
    array->data = NULL;
    goto fail;
  }
  fclose(file);
  return 0;
fail:
  fclose(file);
  return -1;
}

/* Prints octet's message for a failed call; returns whether the call succeeded. */
static int ok(octet_status status, const char* what) {
  if (status == OCTET_OK) return 1;
  fprintf(stderr, "%s failed: %s: %s\n", what, octet_status_name(status), octet_last_error());
  return 0;
}

int main(int argc, char** argv) {
  int exit_code = 1;
  octet_model* model = NULL;
  octet_session_options* options = NULL;
  octet_session* session = NULL;
  octet_tensor* image = NULL;
  npy_array images, labels;
  octet_tensor_info input, output;
  const char* isa = NULL;
  int64_t shape[8];
  size_t per_image = 1, i = 0, d = 0, correct = 0;

  memset(&images, 0, sizeof images);
  memset(&labels, 0, sizeof labels);
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.onnx IMAGES.npy [LABELS.npy]\n", argv[0]);
    return 2;
  }
  if (npy_read(argv[2], &images) != 0 || (argc > 3 && npy_read(argv[3], &labels) != 0)) goto done;
  if (strcmp(images.dtype, "<f4") != 0 || images.rank < 2) {
    fprintf(stderr, "%s: expected float32 images of shape [N, ...]\n", argv[2]);
    goto done;
  }
  if (argc > 3 && (strcmp(labels.dtype, "<i8") != 0 || labels.count != (size_t)images.shape[0])) {
    fprintf(stderr, "%s: expected %lld int64 labels\n", argv[3], (long long)images.shape[0]);
    goto done;
  }

  /* The model, and what it takes and gives: one input and (at least) one output of scores. */
  if (!ok(octet_model_load(argv[1], NULL, &model), "loading the model")) goto done;
  if (!ok(octet_model_input_info(model, 0, &input), "input info") ||
      !ok(octet_model_output_info(model, 0, &output), "output info"))
    goto done;
  printf("octet %s, model %s: input '%s' [", octet_version(), argv[1], input.name);
  for (d = 0; d < input.rank; ++d)
    printf(d ? ", %lld" : "%lld", (long long)input.dims[d]);
  printf("], output '%s'\n", output.name);

  /* A session: one thread, the default instruction set. */
  if (!ok(octet_session_options_create(&options), "creating session options") ||
      !ok(octet_session_options_set_threads(options, 1), "setting threads") ||
      !ok(octet_session_create(model, options, &session), "creating the session") ||
      !ok(octet_default_isa(&isa), "the default instruction set"))
    goto done;
  printf("instruction set: %s\n", isa);

  /* One image per run: shape [1, ...] from the file's shape after its first dimension. */
  shape[0] = 1;
  for (d = 1; d < images.rank; ++d) {
    shape[d] = images.shape[d];
    per_image *= (size_t)images.shape[d];
  }
  for (i = 0; i < (size_t)images.shape[0]; ++i) {
    const char* input_names[1];
    const octet_tensor* inputs[1];
    const octet_tensor* scores = NULL;
    const float* values = NULL;
    const void* data = NULL;
    octet_dtype dtype;
    int64_t count = 0, k = 0, best = 0;

    /* The pixels are copied into the tensor; the previous image's tensor is not needed any more. */
    octet_tensor_destroy(image);
    image = NULL;
    if (!ok(octet_tensor_create_float32(shape, images.rank, (const float*)images.data + i * per_image,
                                        per_image, &image),
            "creating the input tensor"))
      goto done;
    input_names[0] = input.name;
    inputs[0] = image;
    /* All outputs in the model's order into `scores` (the model has one). The session owns it until the
     * next run. */
    if (!ok(octet_session_run(session, input_names, inputs, 1, NULL, 1, 0, &scores), "running the model") ||
        !ok(octet_tensor_dtype(scores, &dtype), "output dtype") ||
        !ok(octet_tensor_element_count(scores, &count), "output size") ||
        !ok(octet_tensor_data(scores, &data), "output data"))
      goto done;
    if (dtype != OCTET_FLOAT32 || count < 1) {
      fprintf(stderr, "output '%s' is not float scores\n", output.name);
      goto done;
    }
    values = (const float*)data;
    for (k = 1; k < count; ++k)
      if (values[k] > values[best]) best = k;
    printf("image %zu: class %lld (score %.3f)", i, (long long)best, values[best]);
    if (labels.data != NULL) {
      const int64_t label = ((const int64_t*)labels.data)[i];
      printf(", label %lld%s", (long long)label, label == best ? "" : "  <- wrong");
      correct += label == best;
    }
    printf("\n");
  }
  if (labels.data != NULL) printf("%zu of %lld correct\n", correct, (long long)images.shape[0]);
  exit_code = 0;

done:
  /* Everything the example created, in any state: the destroy functions accept NULL. */
  octet_tensor_destroy(image);
  octet_session_destroy(session);
  octet_session_options_destroy(options);
  octet_model_destroy(model);
  free(images.data);
  free(labels.data);
  return exit_code;
}
