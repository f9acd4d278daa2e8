#!/usr/bin/env python3
"""Decodes the reference captures into golden vectors: extract-vectors.py RESULTS_DIR DATA_DIR

RESULTS_DIR is a run's results (tests/interop/run --update-vectors passes it); the captures are
<scenario>/capture.pcap, taken in the VM on the server's side of the link (tcpdump -s 0, Ethernet). For
each scenario of SESSIONS it writes, under DATA_DIR, one file per message, named after the program that
sent it:
  <pptp client or server>/<message>.bin   a PPTP control message (RFC 2637 §2), from its length field on
  <pptp client or server>/gre-*.bin       an enhanced GRE packet (RFC 2637 §4.1), from the GRE header on
  pppd-<version>/<session>-<side>-*.bin   a PPP frame as carried in GRE (no HDLC framing), from the
                                          address/control field (or the protocol when compressed) on
and DATA_DIR/CAPTURES.md, the table of every file with its decoding, plus a trimmed pcap of the
handshake in DATA_DIR/captures/. Versions come from the installed Debian packages.
"""
import os
import struct
import subprocess
import sys

CONTROL_NAMES = {1: "sccrq", 2: "sccrp", 3: "stopccrq", 4: "stopccrp", 5: "echorq", 6: "echorp",
                 7: "ocrq", 8: "ocrp", 9: "icrq", 10: "icrp", 11: "iccn", 12: "ccrq", 13: "cdn",
                 14: "wen", 15: "sli"}
CONTROL_LONG = {1: "Start-Control-Connection-Request", 2: "Start-Control-Connection-Reply",
                3: "Stop-Control-Connection-Request", 4: "Stop-Control-Connection-Reply",
                5: "Echo-Request", 6: "Echo-Reply", 7: "Outgoing-Call-Request", 8: "Outgoing-Call-Reply",
                9: "Incoming-Call-Request", 10: "Incoming-Call-Reply", 11: "Incoming-Call-Connected",
                12: "Call-Clear-Request", 13: "Call-Disconnect-Notify", 14: "WAN-Error-Notify",
                15: "Set-Link-Info"}
PPP_PROTOCOLS = {0xC021: "lcp", 0xC223: "chap", 0xC023: "pap", 0x8021: "ipcp", 0x8057: "ipv6cp",
                 0x80FD: "ccp", 0x00FD: "mppe", 0x0021: "ip", 0x0057: "ipv6"}
CP_CODES = {1: "configure-request", 2: "configure-ack", 3: "configure-nak", 4: "configure-reject",
            5: "terminate-request", 6: "terminate-ack", 7: "code-reject", 8: "protocol-reject",
            9: "echo-request", 10: "echo-reply", 11: "discard-request", 14: "reset-request",
            15: "reset-ack"}
CHAP_CODES = {1: "challenge", 2: "response", 3: "success", 4: "failure"}
PAP_CODES = {1: "authenticate-request", 2: "authenticate-ack", 3: "authenticate-nak"}

# scenario -> (session label, what to keep from it)
SESSIONS = {
    "ref-mppe128": ("mschapv2-mppe128", "all"),
    "ref-chap-md5": ("chap-md5", "auth"),
    "ref-pap": ("pap", "auth"),
}
SERVER_ADDR = bytes([192, 0, 2, 1])


def package_version(name):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True)
    version = out.stdout.strip()
    version = version.split(":", 1)[-1]  # epoch
    return version.split("-", 1)[0].split("+", 1)[0]


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit(f"{path}: link type {linktype}, expected Ethernet")
    off, number = 24, 0
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        number += 1
        yield number, sec + frac / (1e9 if nano else 1e6), data[off + 16:off + 16 + incl], data[off:off + 16 + incl]
        off += 16 + incl


class Reassembler:
    """IPv4 fragment reassembly: GRE from pppd's default MTU of 1500 does not fit the link unfragmented."""

    def __init__(self):
        self.pending = {}

    def ipv4(self, frame):
        """(src, dst, protocol, payload) of an Ethernet/IPv4 frame, None until a datagram is whole."""
        if len(frame) < 34 or frame[12:14] != b"\x08\x00":
            return None
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        ident, frag = struct.unpack(">HH", ip[4:8])
        more, offset = frag & 0x2000, (frag & 0x1FFF) * 8
        src, dst, proto, payload = ip[12:16], ip[16:20], ip[9], ip[ihl:total]
        if not more and offset == 0:
            return src, dst, proto, payload
        key = (src, dst, proto, ident)
        parts = self.pending.setdefault(key, {})
        parts[offset] = payload
        if not more:
            parts["end"] = offset + len(payload)
        if "end" in parts:
            data, at = b"", 0
            while at in parts:
                data += parts[at]
                at += len(parts[at])
            if at == parts["end"]:
                del self.pending[key]
                return src, dst, proto, data
        return None


def ppp_decode(frame):
    """(protocol, code or None, body offset) of a PPP frame as pppd sends it in GRE."""
    i = 2 if frame[:2] == b"\xff\x03" else 0
    if frame[i] & 1:  # protocol field compressed (RFC 1661 §6.5)
        proto, i = frame[i], i + 1
    else:
        proto, i = struct.unpack(">H", frame[i:i + 2])[0], i + 2
    code = frame[i] if proto >= 0x8000 and len(frame) > i else None
    return proto, code, i


def gre_decode(packet):
    flags, proto, length, call_id = struct.unpack(">HHHH", packet[:8])
    off, seq, ack = 8, None, None
    if flags & 0x1000:
        seq, off = struct.unpack(">I", packet[off:off + 4])[0], off + 4
    if flags & 0x0080:
        ack, off = struct.unpack(">I", packet[off:off + 4])[0], off + 4
    return {"flags": flags, "proto": proto, "length": length, "call_id": call_id, "seq": seq, "ack": ack,
            "payload": packet[off:off + length] if flags & 0x1000 else b""}


class Writer:
    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.rows = []
        self.taken = set()

    def put(self, rel, blob, frame, what):
        if rel in self.taken:
            return
        self.taken.add(rel)
        path = os.path.join(self.data_dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(blob)
        self.rows.append((rel, len(blob), frame, what))


def extract(scenario, pcap, writer, label, keep, client_src, server_src, pppd):
    streams = {True: {}, False: {}}  # from client? -> {seq: payload}
    first_of = {}
    handshake_end = None
    packets = []
    reassembler = Reassembler()
    for number, ts, frame, record in read_pcap(pcap):
        packets.append(record)
        ip = reassembler.ipv4(frame)
        if not ip:
            continue
        src, dst, proto, payload = ip
        from_client = dst == SERVER_ADDR
        if proto == 6:
            doff = (payload[12] >> 4) * 4
            seq = struct.unpack(">I", payload[4:8])[0]
            data = payload[doff:]
            if data:
                streams[from_client].setdefault(seq, (number, data))
        elif proto == 47:
            g = gre_decode(payload)
            sender = client_src if from_client else server_src
            side = "client" if from_client else "server"
            if keep == "all":
                if not g["payload"]:
                    writer.put(f"{sender}/gre-ack-only.bin", payload, number,
                               f"GRE ack-only (flags 0x{g['flags']:04x}, call id {g['call_id']}, ack {g['ack']})")
                elif g["seq"] is not None and g["ack"] is None and "gre-data-first" not in first_of.get(side, ()):
                    first_of.setdefault(side, set()).add("gre-data-first")
                    writer.put(f"{sender}/gre-data-first.bin", payload, number,
                               f"first GRE data packet (seq {g['seq']}, no ack, call id {g['call_id']})")
                elif g["seq"] is not None and g["ack"] is not None:
                    writer.put(f"{sender}/gre-data-ack.bin", payload, number,
                               f"GRE data with piggybacked ack (seq {g['seq']}, ack {g['ack']}, call id {g['call_id']})")
            if not g["payload"]:
                continue
            ppp = g["payload"]
            p, code, _ = ppp_decode(ppp)
            name = PPP_PROTOCOLS.get(p, f"proto-{p:04x}")
            if p == 0x00FD:
                if keep != "all":
                    continue
                n = first_of.setdefault(("mppe", side), [0])
                if n[0] >= 3:
                    continue
                n[0] += 1
                writer.put(f"{pppd}/{label}-{side}-mppe-{n[0]}.bin", ppp, number,
                           f"MPPE-encrypted datagram #{n[0]} from the {side} (GRE seq {g['seq']})")
                continue
            if p not in PPP_PROTOCOLS or p in (0x0021, 0x0057) or code is None:
                continue
            if keep == "auth" and p not in (0xC223, 0xC023) and not (p == 0xC021 and code == 1):
                continue
            codes = CHAP_CODES if p == 0xC223 else PAP_CODES if p == 0xC023 else CP_CODES
            what = codes.get(code, f"code-{code}")
            writer.put(f"{pppd}/{label}-{side}-{name}-{what}.bin", ppp, number,
                       f"{name.upper()} {what} from the {side}")
            if p == 0x8021 and code == 2 and handshake_end is None:
                handshake_end = number
    for from_client, segs in streams.items():
        sender = client_src if from_client else server_src
        data = b""
        first_frame = {}
        for seq in sorted(segs):
            number, chunk = segs[seq]
            first_frame[len(data)] = number
            data += chunk
        off = 0
        while off + 10 <= len(data):
            length = struct.unpack(">H", data[off:off + 2])[0]
            mtype = struct.unpack(">H", data[off + 8:off + 10])[0]
            number = max(v for k, v in first_frame.items() if k <= off)
            if keep == "all":
                writer.put(f"{sender}/{CONTROL_NAMES.get(mtype, f'type-{mtype}')}.bin", data[off:off + length],
                           number, f"{CONTROL_LONG.get(mtype, 'unknown')} ({length} bytes)")
            off += max(length, 1)
    if keep == "all" and handshake_end:
        # The handshake up to IPCP, a few data packets after it, and the teardown (last 12 frames).
        os.makedirs(os.path.join(writer.data_dir, "captures"), exist_ok=True)
        rel = f"captures/{client_src}_to_{server_src}-{label}.pcap"
        with open(pcap, "rb") as f:
            header = f.read(24)
        chosen = packets[:handshake_end + 20] + packets[-12:]
        with open(os.path.join(writer.data_dir, rel), "wb") as f:
            f.write(header + b"".join(chosen))
        writer.rows.append((rel, sum(len(p) for p in chosen), "-",
                            f"the handshake, 20 frames after IPCP and the last 12 frames of the {scenario} capture"))


def main():
    results, data_dir = sys.argv[1], sys.argv[2]
    client_src = f"pptp-linux-{package_version('pptp-linux')}"
    server_src = f"pptpd-{package_version('pptpd')}"
    pppd = f"pppd-{package_version('ppp')}"
    writer = Writer(data_dir)
    per_session = []
    for scenario, (label, keep) in SESSIONS.items():
        pcap = os.path.join(results, scenario, "capture.pcap")
        if not os.path.exists(pcap):
            sys.exit(f"extract-vectors: {pcap} missing (run tests/interop/run --update-vectors {scenario})")
        start = len(writer.rows)
        extract(scenario, pcap, writer, label, keep, client_src, server_src, pppd)
        per_session.append((scenario, label, writer.rows[start:]))
    with open(os.path.join(data_dir, "CAPTURES.md"), "w") as f:
        f.write("# Golden vectors from the interop reference sessions\n\n"
                "Generated by `tests/interop/run --update-vectors` (tests/interop/extract-vectors.py); see\n"
                "README.md for how they were captured. `frame` is the frame number in that scenario's capture.\n")
        for scenario, label, rows in per_session:
            f.write(f"\n## {scenario} ({label})\n\n| file | bytes | frame | what |\n| --- | --- | --- | --- |\n")
            for rel, size, frame, what in rows:
                f.write(f"| `{rel}` | {size} | {frame} | {what} |\n")
    print(f"extract-vectors: {len(writer.rows)} files under {data_dir}")


if __name__ == "__main__":
    main()
