#include "pptpkit/runtime/secrets.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "pptpkit/runtime/platform.hpp"

namespace pptpkit::runtime {

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::optional<std::uint32_t> parse_decimal(std::string_view text, std::uint32_t max) {
  if (text.empty() || text.size() > 10) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > max) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(value);
}

std::string in_quotes(std::string_view s) {
  return "'" + std::string(s) + "'";
}

}  // namespace

cidr parse_cidr(std::string_view text) {
  const std::size_t slash = text.find('/');
  const auto address = parse_ipv4(text.substr(0, slash));
  if (!address) {
    throw parse_error(in_quotes(text) + " is not an IPv4 network (expected A.B.C.D/N)");
  }
  cidr out{*address, 32};
  if (slash != std::string_view::npos) {
    const auto length = parse_decimal(text.substr(slash + 1), 32);
    if (!length) {
      throw parse_error(in_quotes(text) + ": the prefix length must be 0-32");
    }
    out.prefix_length = static_cast<std::uint8_t>(*length);
  }
  const std::uint32_t mask = out.prefix_length == 0 ? 0 : ~std::uint32_t{0} << (32 - out.prefix_length);
  if ((out.network & ~mask) != 0) {
    throw parse_error(in_quotes(text) + ": host bits are set (did you mean " + format_ipv4(out.network & mask) + "/" +
                      std::to_string(out.prefix_length) + "?)");
  }
  return out;
}

std::vector<address_range> parse_ranges(std::string_view text) {
  std::vector<address_range> out;
  std::uint64_t total = 0;
  while (true) {
    const std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && is_blank(item.front())) {
      item.remove_prefix(1);
    }
    while (!item.empty() && is_blank(item.back())) {
      item.remove_suffix(1);
    }
    const std::size_t dash = item.find('-');
    const auto first = parse_ipv4(item.substr(0, dash));
    if (!first) {
      throw parse_error("address range item " + in_quotes(item) + ": expected A.B.C.D, A.B.C.D-E or A.B.C.D-A.B.C.E");
    }
    address_range r{*first, *first};
    if (dash != std::string_view::npos) {
      const std::string_view end = item.substr(dash + 1);
      if (const auto octet = parse_decimal(end, 255)) {
        r.last = (*first & 0xffffff00u) | *octet;  // pptpd: "10.0.0.100-149"
      } else if (const auto full = parse_ipv4(end)) {
        r.last = *full;
      } else {
        throw parse_error("address range item " + in_quotes(item) + ": " + in_quotes(end) +
                          " is neither a last octet nor an address");
      }
      if (r.last < r.first) {
        throw parse_error("address range item " + in_quotes(item) + " ends before it starts");
      }
    }
    total += std::uint64_t{r.last} - r.first + 1;
    if (total > max_pool_addresses) {
      throw parse_error("address ranges " + in_quotes(text) + " hold more than " + std::to_string(max_pool_addresses) +
                        " addresses");
    }
    out.push_back(r);
    if (comma == std::string_view::npos) {
      break;
    }
    text.remove_prefix(comma + 1);
  }
  return out;
}

address_pool::address_pool(const std::vector<address_range>& ranges) : ranges_(ranges) {
  for (const address_range& r : ranges_) {
    total_ += std::size_t{r.last} - r.first + 1;
  }
}

std::optional<std::uint32_t> address_pool::acquire() {
  for (const address_range& r : ranges_) {
    for (std::uint64_t a = r.first; a <= r.last; ++a) {
      const auto address = static_cast<std::uint32_t>(a);
      if (used_.insert(address).second) {
        return address;
      }
    }
  }
  return std::nullopt;
}

bool address_pool::acquire(std::uint32_t address) {
  return used_.insert(address).second;
}

void address_pool::release(std::uint32_t address) {
  used_.erase(address);
}

bool address_pool::contains(std::uint32_t address) const {
  for (const address_range& r : ranges_) {
    if (address >= r.first && address <= r.last) {
      return true;
    }
  }
  return false;
}

namespace {

// pppd-style word reader over a whole file, tracking lines. A word ends at a blank, a newline or a
// comment; newline_before tells whether a (non-continued) line end came before the word.
class word_reader {
 public:
  word_reader(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  struct word {
    std::string text;
    bool starts_line = false;
    std::uint32_t line = 0;
  };

  // False at the end of the input.
  bool next(word& out) {
    bool newline = at_start_;
    at_start_ = false;
    // Skip blanks, comments and line ends.
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (is_blank(c)) {
        ++pos_;
      } else if (c == '\n') {
        ++pos_;
        ++line_;
        newline = true;
      } else if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') {
          ++pos_;
        }
      } else if (c == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
        pos_ += 2;  // continuation: the entry goes on
        ++line_;
      } else if (c == '\\' && pos_ + 2 < text_.size() && text_[pos_ + 1] == '\r' && text_[pos_ + 2] == '\n') {
        pos_ += 3;
        ++line_;
      } else {
        break;
      }
    }
    if (pos_ >= text_.size()) {
      return false;
    }
    out.text.clear();
    out.starts_line = newline;
    out.line = line_;
    char quote = 0;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (quote == 0 && (is_blank(c) || c == '\n' || c == '#')) {
        break;
      }
      ++pos_;
      if (c == quote) {
        quote = 0;
      } else if (quote == 0 && (c == '"' || c == '\'')) {
        quote = c;
      } else if (c == '\\') {
        escape(out.text);
      } else if (c == '\n') {
        throw parse_error(source_ + ":" + std::to_string(out.line) + ": unterminated quote");
      } else {
        out.text.push_back(c);
      }
    }
    if (quote != 0) {
      throw parse_error(source_ + ":" + std::to_string(out.line) + ": unterminated quote");
    }
    return true;
  }

 private:
  void escape(std::string& out) {
    if (pos_ >= text_.size()) {
      return;  // a lone backslash at the very end: nothing to escape
    }
    const char c = text_[pos_++];
    switch (c) {
      case 'n':
        out.push_back('\n');
        return;
      case 't':
        out.push_back('\t');
        return;
      case 'r':
        out.push_back('\r');
        return;
      case 's':
        out.push_back(' ');
        return;
      case '\n':
        ++line_;  // continuation inside a word
        return;
      default:
        break;
    }
    if (c >= '0' && c <= '7') {
      unsigned value = static_cast<unsigned>(c - '0');
      for (int i = 0; i < 2 && pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '7'; ++i) {
        value = value * 8 + static_cast<unsigned>(text_[pos_++] - '0');
      }
      out.push_back(static_cast<char>(value & 0xff));
      return;
    }
    out.push_back(c);
  }

  std::string_view text_;
  const std::string& source_;
  std::size_t pos_ = 0;
  std::uint32_t line_ = 1;
  bool at_start_ = true;
};

}  // namespace

chap_secrets chap_secrets::parse(std::string_view text, const std::string& source) {
  chap_secrets out;
  word_reader reader(text, source);
  word_reader::word w;
  std::vector<word_reader::word> fields;
  const auto finish = [&] {
    if (fields.empty()) {
      return;
    }
    if (fields.size() < 3) {
      throw parse_error(source + ":" + std::to_string(fields.front().line) +
                        ": an entry needs at least client, server and secret (found " + std::to_string(fields.size()) +
                        " field" + (fields.size() == 1 ? "" : "s") + ")");
    }
    secret_entry e{fields[0].text, fields[1].text, fields[2].text, {}, fields[0].line};
    for (std::size_t i = 3; i < fields.size(); ++i) {
      e.addresses.push_back(fields[i].text);
    }
    addresses_of(e);  // validates the address list now, at load time
    out.entries_.push_back(std::move(e));
    fields.clear();
  };
  while (reader.next(w)) {
    if (w.starts_line) {
      finish();
    }
    fields.push_back(w);
  }
  finish();
  return out;
}

chap_secrets chap_secrets::load(const std::string& path) {
  return parse(read_file(path), path);
}

chap_secrets chap_secrets::load(platform& host, const std::string& path, std::string& warning) {
  std::string text;
  std::string error;
  if (!host.read_private_file(path, text, warning, error)) {
    throw parse_error(error);
  }
  return parse(text, path);
}

const secret_entry* chap_secrets::find(std::string_view client, std::string_view server) const {
  const secret_entry* best = nullptr;
  int best_score = -1;
  for (const secret_entry& e : entries_) {
    int score = 0;
    if (e.client == client) {
      score += 2;
    } else if (e.client != "*") {
      continue;
    }
    if (e.server == server) {
      score += 1;
    } else if (e.server != "*") {
      continue;
    }
    if (score > best_score) {  // the first of equally good entries wins, as in pppd
      best = &e;
      best_score = score;
    }
  }
  return best;
}

address_policy chap_secrets::addresses_of(const secret_entry& entry) {
  address_policy p;
  for (const std::string& a : entry.addresses) {
    if (a == "*") {
      continue;
    }
    if (a == "-") {
      if (entry.addresses.size() != 1) {
        throw parse_error("line " + std::to_string(entry.line) + ": '-' must be the only address of an entry");
      }
      p.what = address_policy::kind::none;
      return p;
    }
    const std::string_view text = a.front() == '!' ? std::string_view(a).substr(1) : std::string_view(a);
    if (text.find('/') != std::string_view::npos) {
      parse_cidr(text);  // a subnet is allowed, but it names no single address to assign
      continue;
    }
    const auto address = parse_ipv4(text);
    if (!address) {
      throw parse_error("line " + std::to_string(entry.line) + ": " + in_quotes(a) + " is not an IPv4 address");
    }
    if (p.what == address_policy::kind::any && a.front() != '!') {
      p.what = address_policy::kind::fixed;
      p.address = *address;
    }
  }
  return p;
}

std::vector<std::pair<std::string, std::string>> parse_config(std::string_view text, const std::string& source) {
  std::vector<std::pair<std::string, std::string>> out;
  std::uint32_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    while (!line.empty() && is_blank(line.front())) {
      line.remove_prefix(1);
    }
    if (line.empty() || line.front() == '#') {
      continue;
    }
    std::size_t key_end = 0;
    while (key_end < line.size() && !is_blank(line[key_end])) {
      ++key_end;
    }
    std::string key(line.substr(0, key_end));
    if (key.starts_with("--")) {
      key.erase(0, 2);  // tolerate copied command-line options
    }
    std::string_view value = line.substr(key_end);
    // A comment after the value needs a blank before '#' (a secret-free file, so no quoting rules).
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '#' && (i == 0 || is_blank(value[i - 1]))) {
        value = value.substr(0, i);
        break;
      }
    }
    while (!value.empty() && is_blank(value.front())) {
      value.remove_prefix(1);
    }
    while (!value.empty() && is_blank(value.back())) {
      value.remove_suffix(1);
    }
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (!value.empty() && (value.front() == '"' || value.front() == '\'')) {
      throw parse_error(source + ":" + std::to_string(line_number) + ": unterminated quote in the value of '" + key +
                        "'");
    }
    if (key.empty()) {
      throw parse_error(source + ":" + std::to_string(line_number) + ": expected 'key value'");
    }
    out.emplace_back(std::move(key), std::string(value));
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw parse_error(path + ": cannot open: " + std::strerror(errno));
  }
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) {
    throw parse_error(path + ": read error");
  }
  return std::move(s).str();
}

std::string read_first_line(const std::string& path) {
  std::string text = read_file(path);
  const std::size_t end = text.find('\n');
  if (end != std::string::npos) {
    text.resize(end);
  }
  if (!text.empty() && text.back() == '\r') {
    text.pop_back();
  }
  return text;
}

}  // namespace pptpkit::runtime
