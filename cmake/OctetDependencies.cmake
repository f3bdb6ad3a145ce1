# Every dependency comes from a Debian package (scripts/install-deps.sh installs them) and is found here,
# in one place, with find_package.

# Debian's xsimd CMake target links a target named xtl: find it first or the link line gets a bare -lxtl.
find_package(xtl REQUIRED)
find_package(xsimd REQUIRED)
find_package(TBB REQUIRED)
find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)
if(OCTET_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(OCTET_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()
