#!/usr/bin/env python3
"""Writes the seed corpora of the pptp-control fuzzers (stream/ and session/ beside this file).

stream/: byte 0 is the fuzzer's cut size; the rest one valid message of each type (RFC 2637 section 2
layouts), and one whole session's stream. session/: scripted sessions for each role in the step
language of fuzz/session_fuzzer.cc. Run it again after changing either format.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = {1: 156, 2: 156, 3: 16, 4: 16, 5: 16, 6: 20, 7: 168, 8: 32, 9: 220, 10: 24, 11: 28, 12: 16, 13: 148,
         14: 40, 15: 24}


def message(t, body=b""):
    size = SIZES[t]
    body = body.ljust(size - 12, b"\0")
    return struct.pack(">HHIHH", size, 1, 0x1A2B3C4D, t, 0) + body


def text(s, n=64):
    return s.encode().ljust(n, b"\0")


BODIES = {
    1: struct.pack(">HHIIHH", 0x0100, 0, 3, 3, 0, 1) + text("pns") + text("vendor"),
    2: struct.pack(">HBBIIHH", 0x0100, 1, 0, 1, 1, 1, 1) + text("pac") + text("vendor"),
    3: struct.pack(">BBH", 1, 0, 0),
    4: struct.pack(">BBH", 1, 0, 0),
    5: struct.pack(">I", 7),
    6: struct.pack(">IBBH", 7, 1, 0, 0),
    7: struct.pack(">HHIIIIHHHH", 0x1234, 1, 300, 100000000, 3, 3, 64, 0, 3, 0) + text("555") + text(""),
    8: struct.pack(">HHBBHIHHI", 0x4321, 0x1234, 1, 0, 0, 64000, 64, 0, 0),
    9: struct.pack(">HHIIHH", 0x4321, 2, 2, 0, 0, 3) + text("") + text("555") + text(""),
    10: struct.pack(">HHBBHHH", 0x1234, 0x4321, 1, 0, 64, 0, 0),
    11: struct.pack(">HHIHHI", 0x1234, 0, 64000, 64, 0, 1),
    12: struct.pack(">HH", 0x1234, 0),
    13: struct.pack(">HBBHH", 0x4321, 4, 0, 0, 0) + text("", 128),
    14: struct.pack(">HHIIIIII", 0x1234, 0, 1, 2, 3, 4, 5, 6),
    15: struct.pack(">HHII", 0x4321, 0, 0xFFFFFFFF, 0xFFFFFFFF),
}


def write(folder, name, data):
    os.makedirs(os.path.join(HERE, folder), exist_ok=True)
    with open(os.path.join(HERE, folder, name), "wb") as f:
        f.write(data)


def main():
    for t in range(1, 16):
        write("stream", "msg%02d" % t, bytes([0]) + message(t, BODIES[t]))
    session = b"".join(message(t, BODIES[t]) for t in (1, 2, 7, 8, 9, 10, 11, 15, 14, 5, 6, 12, 13, 3, 4))
    write("stream", "session-whole", bytes([63]) + session)
    write("stream", "session-bytewise", bytes([0]) + session)
    write("stream", "session-cut7", bytes([6]) + session)

    def msg_step(ch, t, flags, body=b""):  # opcode 1
        return bytes([1, ch - 1, t - 1, flags]) + body.ljust(SIZES[t] - 12, b"\0")

    poll = bytes([4])
    # PAC: SCCRQ, OCRQ, poll, SLI, CCRQ (by last ids), ICRQ via command, ICRP, echo, tick, stop.
    pac = (bytes([0]) + msg_step(1, 1, 4) + poll + msg_step(1, 7, 0, BODIES[7]) + poll +
           msg_step(1, 15, 3) + msg_step(1, 12, 1) + poll +
           bytes([2, 3, 1, 1, 0, 0, 0]) + poll + msg_step(1, 10, 1) + poll +
           msg_step(2, 1, 4) + msg_step(2, 5, 0) + poll + bytes([3, 60]) + poll + bytes([3, 60]) +
           msg_step(1, 3, 0) + poll + bytes([5, 1]))
    write("session", "pac-session", pac)
    # PNS: SCCRP, CALL_OPEN, OCRP (ids), WEN, CDN, ICRQ, ICCN, echo reply, stop command, StopCCRP.
    pns = (bytes([1]) + poll + msg_step(1, 2, 4) + bytes([2, 3, 1, 1, 0, 0, 0]) + poll + msg_step(1, 8, 1) +
           msg_step(1, 14, 3) + msg_step(1, 13, 1) + poll + msg_step(1, 9, 0, BODIES[9]) + poll +
           msg_step(1, 11, 3) + bytes([3, 60]) + poll + msg_step(1, 6, 0) + bytes([2, 2, 1, 1, 1, 0, 0]) + poll +
           msg_step(1, 4, 0) + bytes([3, 200]) + poll)
    write("session", "pns-session", pns)
    write("session", "pac-garbage", bytes([0, 0, 0, 40]) + bytes(range(40)) + poll)


if __name__ == "__main__":
    main()
