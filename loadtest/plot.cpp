#include "loadtest/plot.hpp"

#include <cstring>
#include <fstream>
#include <sstream>

#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace bankd::loadtest {

namespace {

// gnuplot single-quoted strings take a quote as two quotes.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'')
      out += "''";
    else if (c != '\n')
      out.push_back(c);
  }
  return out + "'";
}

}  // namespace

std::string gnuplot_script(const std::string& png_path, const std::string& title,
                           const std::vector<timeline_point>& timeline) {
  std::ostringstream s;
  s << "$data << EOD\n";
  for (const auto& p : timeline) s << p.elapsed_s << ' ' << p.throughput << ' ' << p.p99_ms << '\n';
  s << "EOD\n"
    << "set terminal pngcairo size 1100,500 noenhanced\n"
    << "set output " << quoted(png_path) << "\n"
    << "set title " << quoted(title) << "\n"
    << "set xlabel 'elapsed (s)'\n"
    << "set ylabel 'transfers/s'\n"
    << "set y2label 'p99 latency (ms)'\n"
    << "set ytics nomirror\nset y2tics\nset yrange [0:*]\nset y2range [0:*]\nset grid\n"
    << "set key below\n"
    << "plot $data using 1:2 with linespoints title 'throughput' axes x1y1, \\\n"
    << "     $data using 1:3 with linespoints title 'p99' axes x1y2\n";
  return s.str();
}

std::string draw_plot(const std::string& png_path, const std::string& title,
                      const std::vector<timeline_point>& timeline) {
  if (timeline.empty()) return "no timeline to plot";
  const auto script_path = png_path + ".gp";
  {
    std::ofstream script(script_path);
    script << gnuplot_script(png_path, title, timeline);
    if (!script.flush()) return "cannot write " + script_path;
  }
  std::string program = "gnuplot", script_arg = script_path;
  char* argv[] = {program.data(), script_arg.data(), nullptr};
  pid_t pid = 0;
  if (const int e = ::posix_spawnp(&pid, "gnuplot", nullptr, nullptr, argv, environ); e != 0)
    return "cannot run gnuplot (install gnuplot-nox): " + std::string(std::strerror(e));
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return "gnuplot failed on " + script_path;
  return {};
}

}  // namespace bankd::loadtest
