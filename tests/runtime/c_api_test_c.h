#ifndef OCTET_TESTS_RUNTIME_C_API_TEST_C_H
#define OCTET_TESTS_RUNTIME_C_API_TEST_C_H

/* Helpers of c_api_test written in C (c_api_test_c.c). */

#include "octet/octet_c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The calls that take an enum, with any int for it, as a C caller may pass (C++ may not make such an enum
 * value: that would be undefined behaviour in the test itself). */
octet_status c_api_test_set_load_requantization(octet_load_options* options, int mode);
octet_status c_api_test_set_session_requantization(octet_session_options* options, int mode);
const char* c_api_test_status_name(int status);

/* Classifies the first image of `images` (784 floats, one 28x28 image) with the Fashion-MNIST model at
 * `model_path`, entirely from C: returns the class, or -1 with octet_last_error() set. */
int c_api_test_classify(const char* model_path, const float* images);

#ifdef __cplusplus
}
#endif

#endif
