#pragma once
// Named SQL statements and their parameters.
//
// A statement is declared once, next to the code that uses it, as a constant:
//   inline constexpr db::statement find_account{"account.find", "SELECT ... WHERE id = $1"};
// Each connection prepares it the first time it runs there (inside the same
// pipeline, so the first use costs no extra round trip). Parameters always travel
// separately from the SQL text: values are never spliced into statements.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bankd::db {

struct statement {
  const char* name;  // prepared-statement name; unique per process
  const char* sql;   // with $1, $2, ... placeholders
};

// Parameter values in libpq's text format. Owns copies of the values.
class params {
public:
  params() = default;

  params& add(std::int64_t value);
  params& add(int value) { return add(static_cast<std::int64_t>(value)); }
  params& add(bool value);
  // Throws std::invalid_argument for an embedded NUL: inputs are validated
  // before they reach SQL, so one here is a programming error.
  params& add(std::string_view value);
  params& add(const char* value) { return add(std::string_view(value)); }
  params& add(const std::string& value) { return add(std::string_view(value)); }
  params& add_null();
  // A PostgreSQL array literal ("{1,2,3}"), for a $n::bigint[] parameter.
  params& add_array(const std::vector<std::int64_t>& values);
  template <class T>
  params& add(const std::optional<T>& value) {
    return value ? add(*value) : add_null();
  }

  int size() const noexcept { return static_cast<int>(slots_.size()); }
  // Fills `out` with pointers into this object (null for SQL NULL). They stay
  // valid until the next add().
  void pointers(std::vector<const char*>& out) const;

private:
  struct slot {
    std::size_t offset;
    bool is_null;
  };
  std::string storage_;  // values, each followed by a NUL terminator
  std::vector<slot> slots_;
};

// A PostgreSQL array literal built element by element ("{1,NULL,\"a b\"}"),
// for one $n::type[] parameter: a whole column of a batch in one value.
// Text elements are always quoted and escaped, so any text travels intact.
class array_literal {
public:
  array_literal& add(std::int64_t value);
  array_literal& add(std::string_view value);
  array_literal& add_null();
  template <class T>
  array_literal& add(const std::optional<T>& value) {
    return value ? add(*value) : add_null();
  }
  std::string text() const { return text_ + "}"; }

private:
  void separate() {
    if (text_.size() > 1) text_.push_back(',');
  }
  std::string text_ = "{";
};

// An ordered list of statements sent together in one pipeline.
class batch {
public:
  struct entry {
    const statement* stmt;
    db::params values;
  };

  batch() = default;
  batch& add(const statement& stmt, db::params values = {}) {
    entries_.push_back({&stmt, std::move(values)});
    return *this;
  }
  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  const std::vector<entry>& entries() const noexcept { return entries_; }

private:
  std::vector<entry> entries_;
};

}  // namespace bankd::db
