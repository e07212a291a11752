# Warning flags shared by every bankd target. Boost, libpq and nlohmann_json come
# from /usr/include, which the compiler treats as system headers, so only our
# own code is held to these.
add_library(bankd_warnings INTERFACE)
target_compile_options(bankd_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion
  -Wold-style-cast -Wcast-align -Wimplicit-fallthrough
  # GCC 12 also warns about members left out of designated initializers, the
  # style our parameter aggregates are meant to be used with.
  -Wno-missing-field-initializers
  # GCC 12 at -O2 takes Asio's recycling allocator for coroutine frames
  # (awaitable_frame_base::operator new/delete) for a mismatched pair.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)
if(BANKD_WERROR)
  target_compile_options(bankd_warnings INTERFACE -Werror)
endif()
