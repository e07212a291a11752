#pragma once
// Randomised backoff delays. Thread-safe: each thread has its own generator.

#include <chrono>

namespace bankd::util {

// "Full jitter": uniformly random in [0, min(cap, base * 2^(attempt-1))]. Spreads
// retries of transactions that just collided so they do not collide again.
std::chrono::microseconds full_jitter(int attempt, std::chrono::microseconds base,
                                      std::chrono::microseconds cap);

// Uniformly random in [delay/2, delay]: for reconnect loops, where a floor
// keeps a down server from being hammered.
std::chrono::microseconds equal_jitter(std::chrono::microseconds delay);

}  // namespace bankd::util
