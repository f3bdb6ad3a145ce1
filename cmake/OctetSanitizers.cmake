# OCTET_SANITIZE=address,undefined (or thread) instruments every target. UBSan is made fatal so that a
# finding fails the test that triggered it instead of scrolling past in the log. -g1 keeps the line tables
# that reports need and leaves out the rest of the debug information, which costs compile time.
if(OCTET_SANITIZE)
  add_compile_options(-fsanitize=${OCTET_SANITIZE} -fno-omit-frame-pointer -g1)
  add_link_options(-fsanitize=${OCTET_SANITIZE})
  if(OCTET_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()
