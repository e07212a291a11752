#pragma once
// Thin wrappers over OpenSSL for the few primitives bankd needs.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace bankd::util {

// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

// `n` bytes from the operating system's CSPRNG, base64url-encoded without padding.
std::string random_token(std::size_t n);

// `n` raw bytes from the operating system's CSPRNG.
std::string random_bytes(std::size_t n);

// Standard base64 (RFC 4648 section 4, with padding) and back; nullopt for
// text that is not base64.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

// The 32 raw bytes of HMAC-SHA256(key, message).
std::string hmac_sha256(std::string_view key, std::string_view message);

// Equality in time independent of where the inputs differ (and of their
// length: both are hashed first).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace bankd::util
