#include "webhooks/signature.hpp"

#include "util/crypto.hpp"

namespace bankd::webhooks {

std::optional<std::string> sign(std::string_view secret, std::string_view message_id, std::int64_t timestamp,
                                std::string_view body) {
  constexpr std::string_view prefix = "whsec_";
  if (!secret.starts_with(prefix)) return std::nullopt;
  const auto key = util::base64_decode(secret.substr(prefix.size()));
  if (!key || key->empty()) return std::nullopt;
  std::string content;
  content.reserve(message_id.size() + body.size() + 24);
  content.append(message_id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  return "v1," + util::base64_encode(util::hmac_sha256(*key, content));
}

std::string signature_header(const std::vector<std::string>& secrets, std::string_view message_id,
                             std::int64_t timestamp, std::string_view body) {
  std::string out;
  for (const auto& secret : secrets) {
    auto signature = sign(secret, message_id, timestamp, body);
    if (!signature) continue;
    if (!out.empty()) out.push_back(' ');
    out += *signature;
  }
  return out;
}

}  // namespace bankd::webhooks
