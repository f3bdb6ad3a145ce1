# OCTET_SANITIZE=address,undefined (or thread) instruments every target. UBSan is made fatal so that a
# finding fails the test that triggered it instead of scrolling past in the log. -g1 keeps the line tables
# that reports need and leaves out the rest of the debug information, which costs compile time.
if(OCTET_SANITIZE)
  add_compile_options(-fsanitize=${OCTET_SANITIZE} -fno-omit-frame-pointer -g1)
  add_link_options(-fsanitize=${OCTET_SANITIZE})
  if(OCTET_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  # ASan checks every memory access as a call into its runtime instead of inline code. The SIMD kernels
  # (unrolled, instantiated per ISA, tile shape and epilogue) are mostly memory accesses, and inline checks
  # made them huge functions that the code generator is superlinear in: with clang 14, the whole
  # ASan + UBSan build took 1520 CPU-seconds with inline checks and 1100 with calls, and the suite 245 and
  # 345 (311 once the AMX tile model read whole dwords); depthwise_avx512.cpp alone 260 s -> 126 s. -O1 with
  # calls compiled in 949 but the suite took 574. The checks themselves are the same.
  if(OCTET_SANITIZE MATCHES "address")
    # Per language: the C compiler need not be the C++ one (scripts/run-fuzz.sh names only clang++).
    foreach(lang C CXX)
      add_compile_options(
        "$<$<COMPILE_LANG_AND_ID:${lang},Clang>:-mllvm;-asan-instrumentation-with-call-threshold=0>"
        "$<$<COMPILE_LANG_AND_ID:${lang},GNU>:--param=asan-instrumentation-with-call-threshold=0>")
    endforeach()
  endif()
endif()
