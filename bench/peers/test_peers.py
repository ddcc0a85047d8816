#!/usr/bin/env python3
"""Tests of the benchmark's helpers (no servers needed; seconds): python3 -m unittest bench/peers/test_peers.py"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procstats  # noqa: E402
import report  # noqa: E402


def row(server, scenario, run, **figures):
    base = {"server": server, "scenario": scenario, "run": run, "durability": "d", "e2e_complete": True,
            "integrity_failures": 0, "errors": 0}
    base.update(figures)
    return base


class ProcstatsTest(unittest.TestCase):
    def test_counts_cpu_of_reaped_children(self):
        # A child that burns CPU and exits is reaped by this process: its time must still count.
        before = procstats.cpu_seconds(os.getpid())
        subprocess.run([sys.executable, "-c", "x = 0\nfor i in range(3_000_000): x += i"], check=True)
        self.assertGreater(procstats.cpu_seconds(os.getpid()) - before, 0.05)

    def test_tree_includes_live_children(self):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
        try:
            self.assertIn(child.pid, procstats.tree(os.getpid()))
        finally:
            child.kill()
            child.wait()

    def test_memory_figures_are_positive_for_a_live_process(self):
        self.assertGreater(procstats.status_kib(os.getpid(), "VmHWM"), 0)
        self.assertGreater(procstats.pss_kib(os.getpid()), 0)


class ReportTest(unittest.TestCase):
    def write_results(self, rows):
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "results.jsonl"), "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        with open(os.path.join(d, "command.txt"), "w") as f:
            f.write("bench/peers/compare.sh")
        for name in ("machine", "versions", "disk"):
            with open(os.path.join(d, name + ".json"), "w") as f:
                json.dump({}, f)
        return d

    def test_table_shows_medians_over_runs(self):
        rows = [row("tern", "small", i, accepted_mps=v, e2e_mps=v) for i, v in enumerate([100, 300, 200])]
        text = report.render(*report.load(self.write_results(rows)), "compare")
        self.assertIn("| tern | d | 200 | 200 |", text)

    def test_ratio_row_compares_tern_with_each_peer(self):
        rows = [row("tern", "small", 1, accepted_mps=300, cpu_s_per_1k=1.0),
                row("postfix", "small", 1, accepted_mps=100, cpu_s_per_1k=2.0)]
        text = report.render(*report.load(self.write_results(rows)), "compare")
        self.assertIn("| **tern/postfix** | ratio | 3.00x |", text)
        self.assertIn("| 0.50x |", text)

    def test_incomplete_delivery_is_flagged(self):
        rows = [row("haraka", "small", 1, accepted_mps=10, e2e_complete=False)]
        text = report.render(*report.load(self.write_results(rows)), "compare")
        self.assertIn("1 run(s) not all delivered in time", text)

    def test_large_scenario_is_read_against_the_disk(self):
        rows = [row("tern", "large", 1, accepted_mps=20)]
        d = self.write_results(rows)
        with open(os.path.join(d, "disk.json"), "w") as f:
            json.dump({"synced_mib_per_s_1m": 1000.0, "synced_mib_per_s_10m_fresh": 400.0}, f)
        text = report.render(*report.load(d), "compare")
        self.assertIn("- tern: 200 MiB/s of DATA: 20% of the synced 1 MiB writes over a preallocated file, "
                      "50% of the synced 10 MiB appends", text)

    def test_halfpeak_table_shows_latency_and_the_relays_jfr_figures(self):
        rows = [row("tern", "halfpeak", i, rate=5000, accepted_mps=4990, p50_ms=0.5, p90_ms=1.0, p99_ms=p99,
                    p999_ms=9.0, mail_p99_ms=1.5, fsyncs=60000, fsync_p50_ms=0.2, fsync_p99_ms=1.6,
                    fsync_p999_ms=4.5, gc_pauses=5, gc_pause_max_ms=9.5) for i, p99 in enumerate([3.0, 4.0, 5.0])]
        rows.append(row("postfix", "halfpeak", 1, rate=300, accepted_mps=300, p50_ms=3.0, p90_ms=9.0, p99_ms=40.0,
                        p999_ms=60.0, mail_p99_ms=20.0))
        text = report.render(*report.load(self.write_results(rows)), "compare")
        self.assertIn("| tern | d | 5,000 | 4,990 | 0.50 | 1.00 | **4.00** | 9.00 | 1.50 "
                      "| 0.200 / 1.60 / 4.50 (60,000 syncs) | 5 (9.5) | 3 |", text)
        self.assertIn("| postfix | d | 300 | 300 | 3.00 | 9.00 | **40.00** | 60.00 | 20.00 | – | – | 1 |", text)

    def test_scenario_counts_follow_the_scale(self):
        self.assertEqual(report.describe("large", 0.5), "10 MiB x 10 messages, 5 connections")
        self.assertEqual(report.describe("large", 0.01), "10 MiB x 2 messages, 2 connections")

    def test_docs_section_is_replaced_between_markers_only(self):
        d = tempfile.mkdtemp()
        path = os.path.join(d, "benchmarks.md")
        with open(path, "w") as f:
            f.write(f"intro\n{report.BEGIN}\nold\n{report.END}\nafter\n")
        report.replace_between_markers(path, "new\n", "Benchmarks")
        with open(path) as f:
            self.assertEqual(f.read(), f"intro\n{report.BEGIN}\nnew\n{report.END}\nafter\n")


if __name__ == "__main__":
    unittest.main()
