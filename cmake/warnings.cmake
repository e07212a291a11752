# Warning flags shared by every bankd target. Boost, libpq and nlohmann_json come
# from /usr/include, which the compiler treats as system headers, so only our
# own code is held to these.
add_library(bankd_warnings INTERFACE)
target_compile_options(bankd_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion
  -Wold-style-cast -Wcast-align -Wnull-dereference -Wimplicit-fallthrough
  # GCC 12 also warns about members left out of designated initializers, the
  # style our parameter aggregates are meant to be used with.
  -Wno-missing-field-initializers)
if(BANKD_WERROR)
  target_compile_options(bankd_warnings INTERFACE -Werror)
endif()
