# The Python package (python/): a pybind11 extension over the C++ API, built when CMake finds Python 3 with
# its development files, NumPy and pybind11 (Debian: python3-dev, python3-numpy, pybind11-dev). Decided
# here, before the libraries are defined, because linking them into a shared module needs them compiled as
# position-independent code.
#
# Sets OCTET_PYTHON_ENABLED. Skipped, with a message saying why, when OCTET_BUILD_PYTHON is OFF, under
# sanitizers (an instrumented extension needs the sanitizer runtime preloaded into python3), when
# cross-compiling (the host's python3 cannot import an aarch64 module), or when something is missing.
option(OCTET_BUILD_PYTHON "Build the Python package (python/) when Python 3, NumPy and pybind11 are found" ON)
set(OCTET_PYTHON_ENABLED OFF)

if(NOT OCTET_BUILD_PYTHON)
  message(STATUS "octet: Python package skipped (OCTET_BUILD_PYTHON=OFF)")
elseif(OCTET_SANITIZE)
  message(STATUS "octet: Python package skipped in a sanitizer build (OCTET_SANITIZE=${OCTET_SANITIZE})")
elseif(CMAKE_CROSSCOMPILING)
  message(STATUS "octet: Python package skipped when cross-compiling")
else()
  # The Python dependencies are Debian packages (scripts/install-deps.sh), installed for Debian's
  # /usr/bin/python3; an interpreter found first on PATH (pyenv, conda) would lack them. Another interpreter
  # is one -DPython3_EXECUTABLE=... away.
  if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "The Python 3 interpreter the package is built for")
  endif()
  find_package(Python3 COMPONENTS Interpreter Development.Module NumPy)
  if(Python3_FOUND)
    find_package(pybind11 CONFIG QUIET)
  endif()
  if(NOT Python3_Interpreter_FOUND OR NOT Python3_Development.Module_FOUND)
    message(STATUS "octet: Python package skipped: Python 3 with its development files not found "
                   "(Debian: python3-dev)")
  elseif(NOT Python3_NumPy_FOUND)
    message(STATUS "octet: Python package skipped: NumPy not found for ${Python3_EXECUTABLE} "
                   "(Debian: python3-numpy)")
  elseif(NOT pybind11_FOUND)
    message(STATUS "octet: Python package skipped: pybind11 not found (Debian: pybind11-dev)")
  else()
    set(OCTET_PYTHON_ENABLED ON)
    set(CMAKE_POSITION_INDEPENDENT_CODE ON)
    # -fPIC alone lets GCC assume any global function may be interposed by another shared object, which
    # stops it inlining or specializing calls to them even within one file. octet never relies on
    # interposition, so the libraries keep the code they would have without -fPIC.
    add_compile_options(-fno-semantic-interposition)
    message(STATUS "octet: Python package for ${Python3_EXECUTABLE} (${Python3_VERSION}), pybind11 "
                   "${pybind11_VERSION}")
  endif()
endif()
