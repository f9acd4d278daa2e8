#!/usr/bin/env python3
"""Which concentrator behind an ECMP route does a client reach, over TCP 1723 and over GRE?

  ecmp_probe.py listen --name NAME --address ADDR --timeout S
      listens on ADDR:1723 (TCP) and receives IP protocol 47 (a raw socket) for up to S seconds, and
      prints one line per arrival: "tcp SRC NAME" for a connection (it answers NAME and closes),
      "gre SRC CALLID" for a GRE packet to ADDR. Prints "listening" once both sockets are open.
  ecmp_probe.py tcp --to ADDR --timeout S
      connects to ADDR:1723 and prints the name the listener answered.
  ecmp_probe.py gre --to ADDR --call-id N
      sends one enhanced-GRE packet (RFC 2637 §4.1: version 1, protocol 0x880B, key = payload length
      0 and the call id, no payload), as a PPTP peer would after its control connection.

Exit status 1 on a timeout or an error.
"""
import argparse
import select
import socket
import struct
import sys
import time

PPTP_PORT = 1723
IPPROTO_GRE = 47
GRE_FLAGS_KEY_V1 = 0x2001  # K bit, version 1 (RFC 2637 §4.1)
GRE_PROTOCOL_PPP = 0x880B


def listen(args):
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((args.address, PPTP_PORT))
    tcp.listen(16)
    gre = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_GRE)
    print("listening", flush=True)
    end = time.monotonic() + args.timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([tcp, gre], [], [], max(0.0, end - time.monotonic()))
        if tcp in ready:
            conn, peer = tcp.accept()
            print("tcp %s %s" % (peer[0], args.name), flush=True)
            conn.sendall(args.name.encode())
            conn.close()
        if gre in ready:
            packet, _ = gre.recvfrom(2048)
            header_length = (packet[0] & 0x0F) * 4
            source = socket.inet_ntoa(packet[12:16])
            destination = socket.inet_ntoa(packet[16:20])
            if destination != args.address or len(packet) < header_length + 8:
                continue
            flags, protocol, _, call_id = struct.unpack("!HHHH", packet[header_length:header_length + 8])
            if protocol == GRE_PROTOCOL_PPP:
                print("gre %s %d" % (source, call_id), flush=True)
    return 0


def tcp(args):
    with socket.create_connection((args.to, PPTP_PORT), timeout=args.timeout) as conn:
        name = conn.recv(64).decode()
    if not name:
        sys.exit("ecmp_probe: the listener closed without its name")
    print(name)
    return 0


def gre(args):
    sender = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_GRE)
    sender.sendto(struct.pack("!HHHH", GRE_FLAGS_KEY_V1, GRE_PROTOCOL_PPP, 0, args.call_id), (args.to, 0))
    return 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("listen")
    p.add_argument("--name", required=True)
    p.add_argument("--address", required=True)
    p.add_argument("--timeout", type=float, default=60)
    p = sub.add_parser("tcp")
    p.add_argument("--to", required=True)
    p.add_argument("--timeout", type=float, default=5)
    p = sub.add_parser("gre")
    p.add_argument("--to", required=True)
    p.add_argument("--call-id", type=int, required=True)
    args = parser.parse_args()
    return {"listen": listen, "tcp": tcp, "gre": gre}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
