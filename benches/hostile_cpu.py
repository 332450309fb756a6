#!/usr/bin/env python3
"""Hostile documents against a release `waygate serve` (issue 13): what each
costs in CPU, and how `/healthz` answers while they run.

Run with:
    cargo build --release -p waygate-server
    python3 benches/hostile_cpu.py [path/to/waygate]

For each case it sends CONCURRENCY requests at once (default 2: as many as
this machine has cores) while a probe asks `/healthz` every 20 ms, and
prints: the answers' statuses, the slowest answer, the server's CPU time per
request (from /proc/PID/stat), and `/healthz` p50/p99/max during the case,
beside `/healthz` on the idle gateway measured first in the same run (the
baseline). Targets: under 2 s of CPU per request, `/healthz` under 100 ms.
It exits non-zero only when setting up fails or a request gets no answer.
"""

import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ADMIN_KEY = "bench-operator-key-0123456789abcdef"
CONCURRENCY = int(os.environ.get("HOSTILE_CONCURRENCY", "2"))
TICKS = os.sysconf("SC_CLK_TCK")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, headers=None, timeout=120):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Probe(threading.Thread):
    """Asks /healthz every 20 ms until stopped; keeps the latencies."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.latencies, self.failures = port, [], 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                status, _ = request(self.port, "GET", "/healthz", timeout=30)
                if status != 200:
                    self.failures += 1
            except OSError:
                self.failures += 1
            self.latencies.append((time.perf_counter() - started) * 1000)
            self.stop.wait(0.02)


def summary(latencies):
    if not latencies:
        return "no samples"
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"p50 {statistics.median(ordered):7.1f} ms  p99 {p99:7.1f} ms  "
        f"max {ordered[-1]:7.1f} ms  (n={len(ordered)})"
    )


def nested_flow_yaml(levels):
    return "[" * levels + "]" * levels


def billion_laughs():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def cases(key):
    auth = {"Authorization": f"Bearer {key}"}
    json_h = {**auth, "Content-Type": "application/json"}
    yaml_h = {**auth, "Content-Type": "application/yaml"}
    nested = nested_flow_yaml(100_000)
    slack = open(
        os.path.join(ROOT, "../shared/fixtures/openapi/slack/slack_web_openapi_v2.json")
    ).read()
    big_actions = [
        {
            "slug": f"a{i}",
            "method": "POST",
            "path": f"/things/{i}",
            "inputSchema": {
                "type": "object",
                "properties": {f"p{j}": {"type": "string", "pattern": "^[a-z]+$"} for j in range(8)},
            },
        }
        for i in range(20_000)
    ]
    big_definition = json.dumps(
        {"slug": "big", "name": "Big", "baseUrl": "http://127.0.0.1:9", "actions": big_actions}
    )
    wide = "a: [" + ",".join(["1"] * 3_000_000) + "]\n"
    return [
        ("definition: YAML, 100,000 nested flow sequences (200 KB)",
         "/api/v1/integrations", nested.encode(), yaml_h),
        ("import: the same YAML as the document",
         "/api/v1/integrations/import", json.dumps({"openapi": nested}).encode(), json_h),
        ("import: YAML aliases expanding to 10^9 nodes (1 KB)",
         "/api/v1/integrations/import", json.dumps({"openapi": billion_laughs()}).encode(), json_h),
        ("definition: JSON, 100,000 nested arrays",
         "/api/v1/integrations", (nested_flow_yaml(100_000)).encode(), json_h),
        ("definition: YAML, one flow sequence of 3,000,000 items (6 MB)",
         "/api/v1/integrations", wide.encode(), yaml_h),
        (f"definition: JSON, {len(big_actions)} actions with schemas ({len(big_definition) >> 20} MB)",
         "/api/v1/integrations", big_definition.encode(), json_h),
        ("import: Slack's OpenAPI document (1.2 MB, valid; slug taken after the first)",
         "/api/v1/integrations/import", json.dumps({"openapi": slack, "slug": "slack"}).encode(), json_h),
    ]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "waygate"
    )
    if not os.access(binary, os.X_OK):
        sys.exit(f"no waygate binary at {binary}: cargo build --release -p waygate-server")
    data = tempfile.mkdtemp(prefix="waygate-hostile-")
    port = free_port()
    env = {
        **os.environ,
        "WAYGATE_ADMIN_KEY": ADMIN_KEY,
        "WAYGATE_TENANT_RATE_LIMIT": "0",
        "RUST_LOG": "warn",
    }
    server = subprocess.Popen(
        [binary, "serve", "--addr", f"127.0.0.1:{port}", "--data-dir", os.path.join(data, "d")],
        env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(data, "server.log"), "w"),
    )
    try:
        for _ in range(300):
            try:
                if request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("the gateway did not start")
        status, body = request(
            port, "POST", "/api/v1/tenants", json.dumps({"name": "hostile"}),
            {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"},
        )
        if status != 201:
            sys.exit(f"creating a tenant failed: {status} {body[:200]!r}")
        key = json.loads(body)["apiKey"]

        idle = Probe(port)
        idle.start()
        time.sleep(2)
        idle.stop.set()
        idle.join()
        print(f"waygate {binary}, {CONCURRENCY} requests at once per case, RSS {rss_mb(server.pid):.0f} MB")
        print(f"  baseline: /healthz idle            {summary(idle.latencies)}")
        failed = False
        for name, path, body, headers in cases(key):
            probe = Probe(port)
            probe.start()
            cpu_before = cpu_seconds(server.pid)
            answers = [None] * CONCURRENCY

            def send(i):
                started = time.perf_counter()
                try:
                    status, _ = request(port, "POST", path, body, headers)
                except OSError as e:
                    status = f"no answer ({e})"
                answers[i] = (status, time.perf_counter() - started)

            threads = [threading.Thread(target=send, args=(i,)) for i in range(CONCURRENCY)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            probe.stop.set()
            probe.join()
            cpu = (cpu_seconds(server.pid) - cpu_before) / CONCURRENCY
            statuses = sorted({str(s) for s, _ in answers})
            slowest = max(d for _, d in answers)
            failed |= any(not isinstance(s, int) for s, _ in answers)
            print(f"\n{name}")
            print(f"  answers {','.join(statuses)}  slowest {slowest:6.2f} s  CPU {cpu:6.2f} s/request"
                  f"  RSS {rss_mb(server.pid):.0f} MB")
            print(f"  /healthz during: {summary(probe.latencies)}"
                  + (f"  failures {probe.failures}" if probe.failures else ""))
            target_ok = cpu < 2.0 and (max(probe.latencies, default=0) < 100)
            print("  target (< 2 s CPU, /healthz < 100 ms): " + ("met" if target_ok else "MISSED"))
        sys.exit(1 if failed else 0)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
