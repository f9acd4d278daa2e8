// pptpkit/runtime/peer_text.hpp — text that came from a peer is data, never markup.
//
// User names, host names, vendor strings and the reasons a peer gives travel from the wire into log
// lines ("session up: user=alice ..."), `pptpkit status` and hook environments. A name holding a
// newline could forge a whole log line; one holding a space could forge a field. Every such string goes
// through one of these before it is shown:
//
//   field(s)   a value in a "key=value" line: every byte outside '!'..'~', and '\', becomes \xNN.
//   line(s)    free text in a log line: control bytes (below 0x20, 0x7f) and '\' become \xNN; spaces
//              and everything printable stay.
//
// Escaping is reversible and never drops a byte, so two different names never print the same.
#pragma once

#include <string>
#include <string_view>

namespace pptpkit::runtime::peer_text {

std::string field(std::string_view s);
std::string line(std::string_view s);

}  // namespace pptpkit::runtime::peer_text
