# `cmake --install` puts the public header, the libraries and a CMake package in the prefix, so that an
# application can `find_package(octet)` and link `octet::octet` (examples/classify does exactly that).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS octet_runtime octet_graph octet_kernels EXPORT octetTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# octet_c.h: the C API over octet.h (docs/c_api.md); quantize.h: post-training quantization (docs/quantize.md).
install(FILES ${PROJECT_SOURCE_DIR}/runtime/include/octet/octet.h
              ${PROJECT_SOURCE_DIR}/runtime/include/octet/octet_c.h
              ${PROJECT_SOURCE_DIR}/runtime/include/octet/quantize.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/octet)
install(TARGETS octet_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT octetTargets NAMESPACE octet:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/octet)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/octetConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/octetConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/octet)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/octetConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/octetConfig.cmake ${PROJECT_BINARY_DIR}/octetConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/octet)
