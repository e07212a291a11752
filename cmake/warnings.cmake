# Warning flags shared by every bankd target. Boost, libpq and nlohmann_json come
# from /usr/include, which the compiler treats as system headers, so only our
# own code is held to these.
add_library(bankd_warnings INTERFACE)
target_compile_options(bankd_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion
  -Wold-style-cast -Wcast-align -Wnull-dereference -Wimplicit-fallthrough)
if(BANKD_WERROR)
  target_compile_options(bankd_warnings INTERFACE -Werror)
endif()
