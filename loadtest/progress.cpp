#include "loadtest/progress.hpp"

#include <iomanip>
#include <iostream>
#include <sstream>

#include <unistd.h>

namespace bankd::loadtest {

progress_printer::progress_printer(progress_mode mode, std::ostream& out) : mode_(mode), out_(out) {
  if (mode_ == progress_mode::automatic)
    mode_ = (&out == &std::cerr && ::isatty(STDERR_FILENO)) ? progress_mode::live
                                                            : progress_mode::plain;
}

void progress_printer::update(const timeline_point& interval, const load_stats& stats,
                              const audit_summary& audits) {
  if (mode_ == progress_mode::off) return;
  std::ostringstream line;
  line << std::fixed << std::setprecision(1) << "[" << std::setw(6) << interval.elapsed_s << " s] "
       << "completed " << stats.requests() << "  " << std::setprecision(0) << interval.throughput
       << " transfers/s  p99 " << std::setprecision(2) << interval.p99_ms << " ms  errors "
       << stats.errors() << "  audits " << audits.run;
  if (audits.violating > 0) line << " (" << audits.violating << " VIOLATING)";
  if (mode_ == progress_mode::live) {
    out_ << "\r" << line.str() << "\x1b[K" << std::flush;
    line_open_ = true;
  } else {
    out_ << line.str() << std::endl;
  }
}

void progress_printer::message(const std::string& text) {
  if (mode_ == progress_mode::off) return;
  finish();
  out_ << text << std::endl;
}

void progress_printer::finish() {
  if (!line_open_) return;
  out_ << "\n" << std::flush;
  line_open_ = false;
}

}  // namespace bankd::loadtest
