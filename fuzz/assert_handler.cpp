// BOOST_ASSERT failures in the fuzz build (the preset defines
// BOOST_ENABLE_ASSERT_HANDLER): report and abort, so libFuzzer saves the
// input, except for one known false assertion in Boost.Beast 1.81.
//
// basic_parser::parse_chunk_header asserts n >= 5 when it resumes after a
// final chunk ("0\r\n") of a body with no other chunks, but 4 bytes ("0\r\n"
// and the first byte of a trailer) are a legitimate state; with assertions
// off the code that follows reads only within the buffer and asks for more.
// docs/fuzzing.md has the details.

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

bool known_false_assertion(const char* expr, const char* file) {
  return std::strcmp(expr, "n >= 5") == 0 &&
         std::strstr(file, "boost/beast/http/impl/basic_parser.ipp") != nullptr;
}

[[noreturn]] void report(const char* expr, const char* msg, const char* function, const char* file,
                         long line) {
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed%s%s\n", file, line, function, expr,
               msg != nullptr ? ": " : ".", msg != nullptr ? msg : "");
  std::abort();
}

}  // namespace

namespace boost {

void assertion_failed(const char* expr, const char* function, const char* file, long line) {
  if (known_false_assertion(expr, file)) return;
  report(expr, nullptr, function, file, line);
}

void assertion_failed_msg(const char* expr, const char* msg, const char* function, const char* file,
                          long line) {
  if (known_false_assertion(expr, file)) return;
  report(expr, msg, function, file, line);
}

}  // namespace boost
