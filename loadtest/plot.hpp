#pragma once
// Throughput and p99 over time as a PNG, drawn by gnuplot (Debian package
// gnuplot-nox) run as a subprocess on a generated script. The script, data
// included, is kept next to the image as <image>.gp so it can be re-drawn.

#include "loadtest/load_stats.hpp"

#include <string>
#include <vector>

namespace bankd::loadtest {

std::string gnuplot_script(const std::string& png_path, const std::string& title,
                           const std::vector<timeline_point>& timeline);

// Empty on success, else why there is no plot.
std::string draw_plot(const std::string& png_path, const std::string& title,
                      const std::vector<timeline_point>& timeline);

}  // namespace bankd::loadtest
