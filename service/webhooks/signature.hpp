#pragma once
// Signatures of webhook deliveries, in the Standard Webhooks scheme: the
// HMAC-SHA256, keyed with the base64-decoded secret (after its "whsec_"
// prefix), of "{message id}.{unix timestamp}.{body}", sent base64-encoded
// as "v1,<signature>" in the webhook-signature header; several signatures
// are separated by spaces (while a secret is rotated, both sign).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bankd::webhooks {

// "v1,<base64>"; nullopt for a secret not in the whsec_ format.
std::optional<std::string> sign(std::string_view secret, std::string_view message_id, std::int64_t timestamp,
                                std::string_view body);

// The webhook-signature header: one signature per secret, in order.
std::string signature_header(const std::vector<std::string>& secrets, std::string_view message_id,
                             std::int64_t timestamp, std::string_view body);

}  // namespace bankd::webhooks
