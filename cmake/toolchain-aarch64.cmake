# Cross-compiles octet for 64-bit ARM Linux with Debian's g++-aarch64-linux-gnu, against the arm64
# packages installed next to the host's (dpkg --add-architecture arm64: /usr/lib/aarch64-linux-gnu).
# ctest and the build-time test discovery run the binaries under qemu-aarch64; the CPU model comes from
# the QEMU_CPU environment variable (scripts/run-aarch64-tests.sh sets `max` and `cortex-a53`).
#
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Debian multiarch: CMake's find_* look in /usr/lib/aarch64-linux-gnu (and its cmake/ folder) first, so
# oneTBB, GTest and protobuf resolve to their arm64 builds. The architecture-independent packages (xsimd,
# xtl headers and CMake files) are shared with the host; programs such as protoc stay the host's.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# xsimd is header-only, but Debian's libxsimd-dev (not co-installable for two architectures) keeps its
# CMake package under the host's multiarch folder. It names only /usr/include, so the host's serves.
if(NOT DEFINED xsimd_DIR AND EXISTS /usr/lib/x86_64-linux-gnu/cmake/xsimd/xsimdConfig.cmake)
  set(xsimd_DIR /usr/lib/x86_64-linux-gnu/cmake/xsimd)
endif()

# The binaries run on the arm64 C library and loader of Debian's libc6:arm64 (installed with the arm64
# -dev packages: /lib/ld-linux-aarch64.so.1), so qemu needs no -L prefix. Not `-L /usr/aarch64-linux-gnu`:
# with the cross toolchain's own copy of glibc (2.36-8cross1 in Debian 12) under qemu 7.2, the first
# thread a program starts never runs, and oneTBB's parallel_for hangs.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
