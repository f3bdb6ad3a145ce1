/* The C side of c_api_test, compiled as C99 with the project's warnings (as errors): it checks that
 * octet_c.h is a valid C header, and it does what only C may do with it. */

#include "tests/runtime/c_api_test_c.h"

#include <stddef.h>

octet_status c_api_test_set_load_requantization(octet_load_options* options, int mode) {
  return octet_load_options_set_requantization(options, (octet_requantization)mode);
}

octet_status c_api_test_set_session_requantization(octet_session_options* options, int mode) {
  return octet_session_options_set_requantization(options, (octet_requantization)mode);
}

const char* c_api_test_status_name(int status) {
  return octet_status_name((octet_status)status);
}

int c_api_test_classify(const char* model_path, const float* images) {
  octet_model* model = NULL;
  octet_session* session = NULL;
  octet_tensor* image = NULL;
  const octet_tensor* scores = NULL;
  const void* data = NULL;
  const int64_t shape[] = {1, 1, 28, 28};
  const char* names[] = {"input"};
  const octet_tensor* inputs[1];
  int64_t count = 0, k = 0;
  int best = -1;
  if (octet_model_load(model_path, NULL, &model) == OCTET_OK &&
      octet_session_create(model, NULL, &session) == OCTET_OK &&
      octet_tensor_create_float32(shape, 4, images, 784, &image) == OCTET_OK) {
    inputs[0] = image;
    if (octet_session_run(session, names, inputs, 1, NULL, 1, 0, &scores) == OCTET_OK &&
        octet_tensor_element_count(scores, &count) == OCTET_OK &&
        octet_tensor_data(scores, &data) == OCTET_OK) {
      const float* values = (const float*)data;
      for (best = 0, k = 1; k < count; ++k)
        if (values[k] > values[best]) best = (int)k;
    }
  }
  octet_tensor_destroy(image);
  octet_session_destroy(session);
  octet_model_destroy(model);
  return best;
}
