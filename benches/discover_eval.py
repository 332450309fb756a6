#!/usr/bin/env python3
"""Scores `waygate discover` on a documentation site against a ground truth.

Serves DOCS_DIR with ../shared/tools/docsite.py on a free loopback port, runs
`waygate discover http://127.0.0.1:PORT/ --json` (no LLM), and compares the
(method, path) pairs of the draft with the ground truth, every placeholder
written `{}`. Prints precision, recall, pages and pages/s.

Usage:
  python3 benches/discover_eval.py [--bin target/debug/waygate]
      [--docs ../shared/fixtures/docs/opensearch/docs-2024-12]
      [--truth ../shared/fixtures/docs/opensearch/docs_endpoints.tsv]
      [--max-pages 1300] [--show 15]

The truth is a TSV with `method` and `normalized_path` columns. OpenSearch's
docs_endpoints.tsv lists what its pages declare; spec_operations.tsv (its API
spec) holds operations the pages never mention, so recall against it is bounded
by the pages (see COMPARISON.txt there).
"""
import argparse
import csv
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
DEFAULT_DOCS = os.path.join(SHARED, "fixtures/docs/opensearch/docs-2024-12")
DEFAULT_TRUTH = os.path.join(SHARED, "fixtures/docs/opensearch/docs_endpoints.tsv")


def shape(path):
    path = re.sub(r"\{[^}]*\}", "{}", path)
    if not path.startswith("/"):
        path = "/" + path
    return path.rstrip("/") or "/"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("WAYGATE_BIN", os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "waygate")))
    ap.add_argument("--docs", default=DEFAULT_DOCS)
    ap.add_argument("--truth", default=DEFAULT_TRUTH)
    ap.add_argument("--also-valid", default=None,
                    help="a second TSV of real endpoints (the API spec): found pairs listed there "
                         "are not counted as false positives in the second precision figure")
    ap.add_argument("--max-pages", type=int, default=1300)
    ap.add_argument("--show", type=int, default=15, help="misses and extras to list")
    args = ap.parse_args()

    truth = set()
    with open(args.truth, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            truth.add((row["method"].upper(), shape(row["normalized_path"])))

    port = free_port()
    site = subprocess.Popen([sys.executable, os.path.join(SHARED, "tools/docsite.py"), args.docs, str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        start = time.monotonic()
        run = subprocess.run(
            [args.bin, "discover", f"http://127.0.0.1:{port}/", "--json", "--allow-private-networks",
             "--max-pages", str(args.max_pages), "--max-depth", "2", "--delay-ms", "0", "--concurrency", "8",
             "--max-total-mib", "1024"],
            capture_output=True, text=True, timeout=1800)
        elapsed = time.monotonic() - start
    finally:
        site.terminate()
        site.wait()
    if run.returncode != 0:
        sys.exit(f"waygate discover failed ({run.returncode}): {run.stderr[-2000:]}")
    draft = json.loads(run.stdout)
    found = {(a["method"], shape(a["path"])) for a in draft.get("actions", [])}
    source = {(a["method"], shape(a["path"])): a.get("metadata", {}).get("sourceUrl", "") for a in draft.get("actions", [])}
    pages = len([l for l in run.stderr.splitlines() if l.startswith("[")])
    hits = found & truth
    precision = len(hits) / len(found) if found else 0.0
    recall = len(hits) / len(truth) if truth else 0.0
    print(f"truth: {len(truth)} pairs ({os.path.basename(args.truth)})")
    print(f"found: {len(found)} pairs from {pages} pages in {elapsed:.1f} s ({pages / elapsed:.1f} pages/s)")
    print(f"precision: {precision:.3f}")
    print(f"recall:    {recall:.3f}")
    if args.also_valid:
        valid = set(truth)
        with open(args.also_valid, newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                valid.add((row["method"].upper(), shape(row["normalized_path"])))
        real = found & valid
        print(f"precision counting {os.path.basename(args.also_valid)} as valid too: "
              f"{len(real) / len(found) if found else 0.0:.3f}")
        truth_extra = found - valid
    else:
        truth_extra = found - truth
    for title, items in (("missed", sorted(truth - found)), ("extra", sorted(truth_extra))):
        if items and args.show:
            print(f"{title} ({len(items)}):")
            for m, p in items[: args.show]:
                where = source.get((m, p), "").split("/", 3)[-1]
                print(f"  {m} {p}  {where}")


if __name__ == "__main__":
    main()
