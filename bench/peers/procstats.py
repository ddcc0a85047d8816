#!/usr/bin/env python3
"""CPU time and memory of a server and every process under it, read from /proc (Linux only).

  procstats.py cpu PID   CPU seconds (user+system) of PID and its live descendants, plus the reaped children
                         PID has waited for (cutime+cstime): Postfix's master reaps its smtpd/cleanup/smtp
                         processes, so their CPU still counts after they exit.
  procstats.py hwm PID   peak resident set (VmHWM) in KiB, summed over PID and its live descendants.
  procstats.py rss PID   current resident set (VmRSS) in KiB, summed likewise.
  procstats.py pss PID   proportional set size (Pss, shared pages split between their users) in KiB, summed
                         likewise: unlike a sum of RSS it does not count Postfix's shared libraries once per process.

Only reads /proc; prints one number.
"""
import os
import sys

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    # The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
    return text[text.rindex(")") + 2:].split()


def tree(root):
    """PID and its live descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(_stat_fields(entry)[1])
        except (OSError, ValueError, IndexError):
            continue  # the process exited while we looked
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo and len(found) < 100_000:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(root):
    total = 0
    for pid in tree(root):
        try:
            f = _stat_fields(pid)
        except OSError:
            continue
        # After ')' fields start at 3 (state): utime=14, stime=15, cutime=16, cstime=17 -> indexes 11..14.
        total += int(f[11]) + int(f[12])
        if pid == root:
            total += int(f[13]) + int(f[14])
    return total / CLK_TCK


def status_kib(root, key):
    total = 0
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


def pss_kib(root):
    total = 0
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


def main(argv):
    if len(argv) != 3 or argv[1] not in ("cpu", "hwm", "rss", "pss"):
        print(__doc__, file=sys.stderr)
        return 2
    pid = int(argv[2])
    if not os.path.exists(f"/proc/{pid}"):
        print(f"procstats: no process {pid}", file=sys.stderr)
        return 1
    if argv[1] == "cpu":
        print(f"{cpu_seconds(pid):.2f}")
    elif argv[1] == "pss":
        print(pss_kib(pid))
    else:
        print(status_kib(pid, "VmHWM" if argv[1] == "hwm" else "VmRSS"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
