#pragma once
// The live progress line: rewritten in place on a terminal, one plain line
// per interval otherwise (logs, CI), or nothing.

#include "loadtest/audit.hpp"
#include "loadtest/load_stats.hpp"
#include "loadtest/options.hpp"

#include <ostream>

namespace bankd::loadtest {

class progress_printer {
 public:
  // automatic: live when `out` is std::cerr and stderr is a terminal.
  progress_printer(progress_mode mode, std::ostream& out);
  void update(const timeline_point& interval, const load_stats& stats, const audit_summary& audits);
  void message(const std::string& text);  // a line of its own, e.g. "setting up 1000 accounts"
  void finish();                          // ends a live line

 private:
  progress_mode mode_;
  std::ostream& out_;
  bool line_open_ = false;
};

}  // namespace bankd::loadtest
