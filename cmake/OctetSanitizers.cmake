# OCTET_SANITIZE=address,undefined (or thread) instruments every target. UBSan is made fatal so that a
# finding fails the test that triggered it instead of scrolling past in the log.
if(OCTET_SANITIZE)
  add_compile_options(-fsanitize=${OCTET_SANITIZE} -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${OCTET_SANITIZE})
  if(OCTET_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()
