#!/usr/bin/env python3
"""Scores `waygate discover` on a documentation site against a ground truth.

Serves DOCS_DIR with ../shared/tools/docsite.py on a free loopback port, runs
`waygate discover http://127.0.0.1:PORT/ --json` (no LLM), and compares the
(method, path) pairs of the draft with two lists, every placeholder written
`{}`. Prints precision, recall, pages, wall time and pages/s for each.

Usage:
  python3 benches/discover_eval.py [--bin target/debug/waygate]
      [--docs ../shared/fixtures/docs/opensearch/docs-2024-12]
      [--spec ../shared/fixtures/docs/opensearch/spec_operations.tsv]
      [--reader ../shared/fixtures/docs/opensearch/docs_endpoints.tsv]
      [--max-pages 1300] [--show 15] [--save-draft F | --draft F]

Both lists are TSVs with `method` and `normalized_path` columns. The target
(decision 99) is the API spec's operations (`--spec`, the ground truth): a found
pair is correct when the API has that operation. The spec also holds operations
the pages never mention, which no reader of the pages can find, so recall is
measured against the spec operations the served pages *document*: those whose
method and path template (in any placeholder style) stand together on a line of
some page. `--reader` is what a simple reader finds in the pages: printed for
comparison, not a target (it takes example names such as `/books/_search` for
endpoints and misses operations the pages document outside its sections).
Pairs the pages declare that the spec lacks (plugins newer than the spec) are
listed, so that a reader can tell an extractor's mistakes from the spec's gaps.
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
FIXTURE = os.path.join(SHARED, "fixtures/docs/opensearch")
DEFAULT_DOCS = os.path.join(FIXTURE, "docs-2024-12")

# A method and a path template on one line of a page: how "documented" is judged.
MENTION = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+(?:https?://[^/\s]+)?(/?[\w{}<>.,*:\-/]+)")


def shape(path):
    """A path with every placeholder (`{x}`, `<x>`, `:x`) written `{}`, no query."""
    path = re.sub(r"\{[^}]*\}|<[^>]*>|(?<=/):[A-Za-z_]\w*", "{}", path.split("?")[0])
    if not path.startswith("/"):
        path = "/" + path
    return path.rstrip("/") or "/"


def pairs(tsv):
    with open(tsv, newline="") as f:
        return {(row["method"].upper(), shape(row["normalized_path"])) for row in csv.DictReader(f, delimiter="\t")}


def documented(docs_dir, ops):
    """The operations of `ops` whose method and template stand on one line of a page."""
    seen = set()
    for top, _, files in os.walk(docs_dir):
        for name in files:
            if name.endswith((".md", ".mdx")):
                with open(os.path.join(top, name), errors="replace") as f:
                    for m in MENTION.finditer(f.read()):
                        seen.add((m[1], shape(m[2])))
    return ops & seen


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def crawl(args):
    """Runs `waygate discover` on the served docs: (draft, pages, seconds)."""
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
    pages = len([l for l in run.stderr.splitlines() if l.startswith("[")])
    return json.loads(run.stdout), pages, elapsed


def score(title, found, correct, reachable, source, show):
    hits = found & correct
    precision = len(hits) / len(found) if found else 0.0
    recall = len(found & reachable) / len(reachable) if reachable else 0.0
    print(f"{title}\n  precision: {precision:.3f} ({len(hits)} of {len(found)})"
          f"\n  recall:    {recall:.3f} ({len(found & reachable)} of {len(reachable)})")
    for what, items in (("missed", sorted(reachable - found)), ("wrong", sorted(found - correct))):
        if items and show:
            print(f"  {what} ({len(items)}):")
            for m, p in items[:show]:
                print(f"    {m} {p}  {source.get((m, p), '').split('/', 3)[-1]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("WAYGATE_BIN", os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "waygate")))
    ap.add_argument("--docs", default=DEFAULT_DOCS)
    ap.add_argument("--spec", default=os.path.join(FIXTURE, "spec_operations.tsv"),
                    help="the API's operations: the ground truth")
    ap.add_argument("--reader", default=os.path.join(FIXTURE, "docs_endpoints.tsv"),
                    help="what a simple reader finds in the pages, for comparison")
    ap.add_argument("--max-pages", type=int, default=1300)
    ap.add_argument("--show", type=int, default=15, help="misses and mistakes to list per score")
    ap.add_argument("--save-draft", help="write the draft to this file")
    ap.add_argument("--draft", help="score this saved draft instead of crawling")
    args = ap.parse_args()

    if args.draft:
        with open(args.draft) as f:
            draft, pages, elapsed = json.load(f), 0, 0.0
    else:
        draft, pages, elapsed = crawl(args)
        if args.save_draft:
            with open(args.save_draft, "w") as f:
                json.dump(draft, f)
    actions = draft.get("actions", [])
    found = {(a["method"], shape(a["path"])) for a in actions}
    source = {(a["method"], shape(a["path"])): a.get("metadata", {}).get("sourceUrl", "") for a in actions}
    spec, reader = pairs(args.spec), pairs(args.reader)
    docs = documented(args.docs, spec)
    if pages:
        print(f"found: {len(found)} pairs from {pages} pages in {elapsed:.1f} s ({pages / elapsed:.1f} pages/s)")
    else:
        print(f"found: {len(found)} pairs (saved draft)")
    # The spec judges the namespaces it describes: a found pair under a plugin
    # prefix (`/_plugins/NAME`) the spec has no operation under is left out of the
    # target precision, since the spec cannot say whether it is real. Pairs the
    # pages themselves declare (the simple reader's list) count as real.
    covered = {"/".join(p.split("/")[:3]) for _, p in spec if p.startswith("/_plugins/")}
    judged = {f for f in found if not f[1].startswith("/_plugins/") or "/".join(f[1].split("/")[:3]) in covered}
    valid = spec | reader
    print(f"TARGET precision: {len(judged & valid) / len(judged) if judged else 0.0:.3f} "
          f"({len(judged & valid)} of the {len(judged)} pairs the spec can judge are in the spec or declared by the pages)")
    print(f"TARGET recall:    {len(found & docs) / len(docs) if docs else 0.0:.3f} "
          f"({len(found & docs)} of the {len(docs)} spec operations the pages document)")
    for m, p in sorted(judged - valid)[: args.show]:
        print(f"    wrong: {m} {p}  {source.get((m, p), '').split('/', 3)[-1]}")
    score(f"against the spec alone ({os.path.basename(args.spec)}, {len(spec)} operations, "
          f"{len(docs)} documented in the pages)", found, spec, docs, source, args.show)
    print(f"  recall of all {len(spec)} spec operations: {len(found & spec) / len(spec):.3f}")
    score(f"against the simple reader ({os.path.basename(args.reader)}, {len(reader)} pairs)",
          found, reader, reader, source, args.show)
    print(f"precision counting both lists as valid, plugins the spec lacks included: "
          f"{len(found & valid) / len(found) if found else 0.0:.3f}")
    unjudged = sorted(found - judged - valid)
    print(f"under plugin prefixes the spec does not describe, in neither list: {len(unjudged)}")
    for m, p in unjudged[: args.show]:
        print(f"    {m} {p}  {source.get((m, p), '').split('/', 3)[-1]}")


if __name__ == "__main__":
    main()
