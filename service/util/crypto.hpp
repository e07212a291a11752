#pragma once
// Thin wrappers over OpenSSL for the few primitives bankd needs.

#include <cstddef>
#include <string>
#include <string_view>

namespace bankd::util {

// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

// `n` bytes from the operating system's CSPRNG, base64url-encoded without padding.
std::string random_token(std::size_t n);

// Equality in time independent of where the inputs differ (and of their
// length: both are hashed first).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace bankd::util
