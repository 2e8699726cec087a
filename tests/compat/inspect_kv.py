#!/usr/bin/env python3
"""Reads the kernel's view of a process tree's sockets through `sockfix
inspect --tree --json` and prints it as key=value lines for the compatibility tests:
ROLE.OPTION=VALUE for the first listener, server (accepted) and client socket
on PORT found in PID or its descendants (booleans as 1/0), plus ROLE.pid.

usage: inspect_kv.py SOCKFIX PID PORT
"""
import json
import subprocess
import sys


def port_of(address):
    return int(address.rsplit(":", 1)[1]) if address else None


def main():
    sockfix, pid, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    found = {}
    out = subprocess.run([sockfix, "inspect", "--tree", "--json", str(pid)],
                         capture_output=True, text=True)
    if out.returncode != 0:  # a worker that exits meanwhile: the caller asks again
        return
    for s in json.loads(out.stdout)["sockets"]:
        if s["type"] != "tcp":
            continue
        role = s["role"]
        mine = port_of(s["remote"] if role == "client" else s["local"])
        if mine != port or role in found:
            continue
        found[role] = (s["pid"], s["options"])
    for role, (p, options) in sorted(found.items()):
        print(f"{role}.pid={p}")
        for key, value in options.items():
            if isinstance(value, bool):
                value = int(value)
            print(f"{role}.{key}={value}")


if __name__ == "__main__":
    main()
