#!/usr/bin/env python3
"""Turns one compare.sh result directory into markdown (stdout) and, with --docs DIR, into the docs.

  report.py RESULTS_DIR compare|jvm-flags [--docs DOCS_DIR]

RESULTS_DIR holds results.jsonl (one JSON row per run), machine.json, versions.json, disk.json and command.txt.
Every figure is the median over the runs of one server and scenario. With --docs the report replaces the part
between the "results:begin" and "results:end" markers of DOCS_DIR/benchmarks.md (compare) or DOCS_DIR/tuning.md
(jvm-flags), and the throughput chart is written to DOCS_DIR/benchmarks-peers.svg (compare only).
"""
import json
import os
import statistics
import sys

# Descriptions at SCALE=1; {n:COUNT:MIN} is COUNT scaled as compare.sh scales it (never below MIN).
SCENARIOS = {
    "small": "1 KiB x {n:50000:100} messages, {n:50:2} connections, PIPELINING",
    "small-nopipe": "1 KiB x {n:50000:100} messages, {n:50:2} connections, no PIPELINING",
    "halfpeak": "open loop at half of each server's own small median, 1 KiB, {n:50:2} connections, PIPELINING, "
                "about 15 s; latency from each message's due time (coordinated omission corrected)",
    "medium": "100 KiB x {n:5000:20} messages, {n:50:2} connections",
    "large": "10 MiB x {n:20:2} messages, {n:10:2} connections",
    "smtp-source": "Postfix smtp-source: {n:20:2} sessions, {n:20000:100} x 1 KiB, connections reused (-d), "
                   "a round trip per command",
    "smtp-source-connect": "Postfix smtp-source: {n:20:2} sessions, {n:20000:100} x 1 KiB, a new connection per "
                           "message",
    "idle": "{n:10000:10} mostly-idle sessions (220 + EHLO, then silence)",
}
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def describe(scenario, scale):
    """The scenario's description with its counts scaled like compare.sh's scaled()."""
    text = SCENARIOS.get(scenario, scenario)
    for _ in range(10):
        start = text.find("{n:")
        if start < 0:
            break
        end = text.index("}", start)
        count, least = (int(x) for x in text[start + 3:end].split(":"))
        text = text[:start] + f"{max(least, round(count * scale)):,}" + text[end + 1:]
    return text


def scale_of(command):
    for word in command.split():
        if word.startswith("SCALE="):
            return float(word.split("=", 1)[1])
    return 1.0


def load(results):
    rows = []
    with open(os.path.join(results, "results.jsonl")) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    meta = {}
    for name in ("machine", "versions", "disk"):
        try:
            with open(os.path.join(results, name + ".json")) as f:
                meta[name] = json.load(f)
        except (OSError, ValueError):
            meta[name] = {}
    with open(os.path.join(results, "command.txt")) as f:
        meta["command"] = f.read().strip()
    return rows, meta


def median(rows, key):
    values = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "–"


def group(rows):
    """{scenario: {server: [rows]}} in first-seen order."""
    out = {}
    for r in rows:
        out.setdefault(r["scenario"], {}).setdefault(r["server"], []).append(r)
    return out


def medians(runs):
    keys = ("accepted_mps", "e2e_mps", "p50_ms", "p99_ms", "cpu_s_per_1k", "peak_rss_mib", "anon_rss_mib_end",
            "greeted", "probe_220_median_ms", "pss_held_kib", "pss_per_session_kib", "probes_unanswered", "connections",
            "rate", "p90_ms", "p999_ms", "mail_p99_ms", "fsync_p50_ms", "fsync_p99_ms", "fsync_p999_ms", "fsyncs",
            "gc_pauses", "gc_pause_max_ms")
    m = {k: median(runs, k) for k in keys}
    m["durability"] = runs[0].get("durability", "?")
    m["runs"] = len(runs)
    m["incomplete"] = sum(1 for r in runs if r.get("e2e_complete") is False)
    m["integrity_failures"] = sum(r.get("integrity_failures", 0) for r in runs)
    m["errors"] = sum((r.get("errors") or 0) + (r.get("tempfailed") or 0) + (r.get("rejected") or 0) for r in runs)
    return m


def throughput_table(servers, base):
    lines = ["| server | durability | accepted msgs/s | end-to-end msgs/s | p50 EOD ms | p99 EOD ms "
             "| CPU s / 1k msgs | peak RSS MiB | anon RSS MiB at end | runs | notes |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, m in servers.items():
        notes = []
        if m["incomplete"]:
            notes.append(f"{m['incomplete']} run(s) not all delivered in time")
        if m["errors"]:
            notes.append(f"{m['errors']} failed/refused msgs")
        if m["integrity_failures"]:
            notes.append(f"{m['integrity_failures']} integrity failures at the sink")
        lines.append(f"| {name} | {m['durability']} | {fmt(m['accepted_mps'])} | {fmt(m['e2e_mps'])} "
                     f"| {fmt(m['p50_ms'], 2)} | {fmt(m['p99_ms'], 2)} | {fmt(m['cpu_s_per_1k'], 3)} "
                     f"| {fmt(m['peak_rss_mib'], 1)} | {fmt(m['anon_rss_mib_end'], 1)} | {m['runs']} "
                     f"| {'; '.join(notes)} |")
    if base in servers:
        b = servers[base]
        for name, m in servers.items():
            if name == base:
                continue
            lines.append(f"| **{base}/{name}** | ratio | {ratio(b['accepted_mps'], m['accepted_mps'])} "
                         f"| {ratio(b['e2e_mps'], m['e2e_mps'])} | {ratio(b['p50_ms'], m['p50_ms'])} "
                         f"| {ratio(b['p99_ms'], m['p99_ms'])} | {ratio(b['cpu_s_per_1k'], m['cpu_s_per_1k'])} "
                         f"| {ratio(b['peak_rss_mib'], m['peak_rss_mib'])} "
                         f"| {ratio(b['anon_rss_mib_end'], m['anon_rss_mib_end'])} | | |")
    return lines


def latency_table(servers):
    """halfpeak: each server at half of its own peak; latency percentiles, and the relay's JFR figures for Tern."""
    lines = ["| server | durability | offered msgs/s | achieved msgs/s | p50 EOD ms | p90 | **p99** | p99.9 "
             "| MAIL p99 ms | fdatasync p50 / p99 / p99.9 ms (JFR) | GC pauses (max ms) | runs |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|"]
    for name, m in servers.items():
        jfr = (f"{fmt(m['fsync_p50_ms'], 3)} / {fmt(m['fsync_p99_ms'], 2)} / {fmt(m['fsync_p999_ms'], 2)} "
               f"({fmt(m['fsyncs'])} syncs)" if m["fsyncs"] else "–")
        gc = f"{fmt(m['gc_pauses'])} ({fmt(m['gc_pause_max_ms'], 1)})" if m["fsyncs"] else "–"
        lines.append(f"| {name} | {m['durability']} | {fmt(m['rate'])} | {fmt(m['accepted_mps'])} "
                     f"| {fmt(m['p50_ms'], 2)} | {fmt(m['p90_ms'], 2)} | **{fmt(m['p99_ms'], 2)}** "
                     f"| {fmt(m['p999_ms'], 2)} | {fmt(m['mail_p99_ms'], 2)} | {jfr} | {gc} | {m['runs']} |")
    return lines


def idle_table(servers, base):
    lines = ["| server | durability | sessions greeted | new session: 220 after (median ms) | memory held (PSS) MiB "
             "| KiB / session | runs |", "|---|---|---:|---:|---:|---:|---:|"]
    for name, m in servers.items():
        pss = m["pss_held_kib"] / 1024 if m["pss_held_kib"] else None
        probe = fmt(m['probe_220_median_ms'], 2)
        if m["probes_unanswered"]:
            probe += f" ({m['probes_unanswered']:.0f} of 5 probes got no 220 in 10 s)"
        lines.append(f"| {name} | {m['durability']} | {fmt(m['greeted'])} of {fmt(m['connections'])} "
                     f"| {probe} | {fmt(pss, 1)} | {fmt(m['pss_per_session_kib'], 1)} | {m['runs']} |")
    if base in servers:
        b = servers[base]
        for name, m in servers.items():
            if name != base:
                lines.append(f"| **{base}/{name}** | ratio | {ratio(b['greeted'], m['greeted'])} "
                             f"| {ratio(b['probe_220_median_ms'], m['probe_220_median_ms'])} "
                             f"| {ratio(b['pss_held_kib'], m['pss_held_kib'])} "
                             f"| {ratio(b['pss_per_session_kib'], m['pss_per_session_kib'])} | |")
    return lines


def large_vs_disk(ms, disk):
    """10 MiB DATA throughput of each server against the disk's synced-write bandwidth measured in the same run."""
    over, fresh = disk.get("synced_mib_per_s_1m"), disk.get("synced_mib_per_s_10m_fresh")
    lines = []
    for name, m in ms.items():
        rate = m.get("accepted_mps")
        if not rate:
            continue
        mib_s = rate * 10
        parts = [f"{100 * mib_s / d:.0f}% of the {what}" for d, what in
                 ((over, "synced 1 MiB writes over a preallocated file"), (fresh, "synced 10 MiB appends"))
                 if d]
        lines.append(f"- {name}: {mib_s:,.0f} MiB/s of DATA" + (": " + ", ".join(parts) if parts else ""))
    return lines + [""] if lines else []


def render(rows, meta, mode):
    machine, disk, versions = meta["machine"], meta["disk"], meta["versions"]
    started = min((r.get("started_at") or "" for r in rows), default="") if rows else ""
    out = [f"Command: `{meta['command']}`", "",
           f"- Date (UTC): {meta.get('date', started) or os.path.basename(meta.get('results', ''))}",
           f"- Machine: {machine.get('nproc')} CPUs ({machine.get('cpu')}), {machine.get('ram_gib')} GiB RAM, "
           f"disk {machine.get('disk')}, Linux {machine.get('kernel')}; load average at start "
           f"{machine.get('load_avg_at_start', 0):.2f} (the machine is shared: read ratios, not absolutes)",
           f"- Versions: Tern {versions.get('tern')} on {versions.get('java')}; Postfix {versions.get('postfix')}; "
           f"Haraka {versions.get('haraka')} on Node {versions.get('node')}",
           f"- Disk synced-write limits ({disk.get('method')}): **{fmt(disk.get('sync_writes_4k_per_s'))} "
           f"synced 4 KiB writes/s** over a preallocated file, {fmt(disk.get('sync_appends_4k_per_s'))} synced "
           f"4 KiB appends/s, **{fmt(disk.get('synced_mib_per_s_1m'), 1)} MiB/s** in synced 1 MiB writes, "
           f"{fmt(disk.get('synced_mib_per_s_10m_fresh'), 1)} MiB/s in synced 10 MiB appends to a new file. "
           "A server that syncs once per message cannot pass the first figures; group commit is how to pass them.",
           "- Load: `./tern loadgen` (closed loop) or `smtp-source`; every server relays to one `./tern sink`. "
           "Accepted = acknowledged by the server / load time; end-to-end = messages at the sink / time until the "
           "last acknowledged one arrived. EOD = end of data to the server's reply. CPU from /proc utime+stime of "
           "the server's processes (Postfix: master and all its children, exited ones included); peak RSS = "
           "VmHWM summed over them (for Postfix's many processes this counts shared pages once per process; the "
           "idle-sessions table uses PSS, which does not); it includes file pages such as Tern's memory-mapped "
           "journal, so anonymous RSS at the end of the run (RssAnon) is shown beside it. Medians over the runs.", ""]
    base = "tern" if mode == "compare" else "tern-profile"
    for scenario, servers in group(rows).items():
        ms = {name: medians(runs) for name, runs in servers.items()}
        out.append(f"### {scenario}: {describe(scenario, scale_of(meta['command']))}")
        out.append("")
        if scenario == "idle":
            out.extend(idle_table(ms, base))
        elif scenario == "halfpeak":
            out.extend(latency_table(ms))
        else:
            out.extend(throughput_table(ms, base))
        out.append("")
        if scenario == "large":
            out.extend(large_vs_disk(ms, disk))
    return "\n".join(out) + "\n"


def svg_chart(rows):
    """Grouped horizontal bars: median accepted msgs/s per throughput scenario and server."""
    colors = {"tern": "#2b6cb0", "postfix": "#c05621", "haraka": "#2f855a"}
    groups = [(s, {n: medians(r) for n, r in servers.items()}) for s, servers in group(rows).items()
              if s not in ("idle", "halfpeak")]
    bar, gap, left, width = 16, 14, 150, 420
    height = sum(len(g) * bar + gap for _, g in groups) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 120}" height="{height}" '
             'font-family="sans-serif" font-size="11">',
             f'<text x="4" y="14" font-size="13">Accepted msgs/s (median), each scenario scaled to its best</text>']
    y = 28
    for scenario, servers in groups:
        best = max((m["accepted_mps"] or 0) for m in servers.values()) or 1
        parts.append(f'<text x="4" y="{y + bar}">{scenario}</text>')
        for name, m in servers.items():
            v = m["accepted_mps"] or 0
            w = max(1, int(width * v / best))
            parts.append(f'<rect x="{left}" y="{y}" width="{w}" height="{bar - 3}" '
                         f'fill="{colors.get(name, "#718096")}"/>')
            parts.append(f'<text x="{left + w + 4}" y="{y + bar - 5}">{name} {v:,.0f}</text>')
            y += bar
        y += gap
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def replace_between_markers(path, body, title):
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    else:
        text = f"# {title}\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    with open(path, "w") as f:
        f.write(f"{head}{BEGIN}\n{body}{END}{tail}")


def main(argv):
    if len(argv) not in (3, 5) or argv[2] not in ("compare", "jvm-flags"):
        print(__doc__, file=sys.stderr)
        return 2
    results, mode = argv[1], argv[2]
    rows, meta = load(results)
    meta["results"] = results
    meta["date"] = os.path.basename(os.path.normpath(results)).split("-")[0]
    body = render(rows, meta, mode)
    if len(argv) == 5 and argv[3] == "--docs":
        docs = argv[4]
        if mode == "compare":
            with open(os.path.join(docs, "benchmarks-peers.svg"), "w") as f:
                f.write(svg_chart(rows))
            body += "\n![accepted msgs/s per scenario](benchmarks-peers.svg)\n"
            replace_between_markers(os.path.join(docs, "benchmarks.md"), body, "Benchmarks")
        else:
            replace_between_markers(os.path.join(docs, "tuning.md"), body, "Tuning")
    else:
        sys.stdout.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
