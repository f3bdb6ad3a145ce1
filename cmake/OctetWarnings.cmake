# octet's own code builds with these warnings, as errors. Third-party headers come in as SYSTEM includes
# through their imported targets, so their warnings do not fail our build.
function(octet_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror)
endfunction()
