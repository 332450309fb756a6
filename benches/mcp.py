"""MCP figures (issue 15), in one run against one `waygate serve`:

  - `tools/list` for a tenant with 10,000 actions (10 integrations x 1,000):
    the first page cold (tools built from the store) and warm, every page of
    a full listing (following cursors), and meta mode (`?mode=meta`: the three
    meta tools, and a `search_actions` call through the store's index);
  - the overhead of an MCP `tools/call` over the plain gateway invoke
    (`POST /api/v1/actions/{integration}/{action}`) on the same action and
    local upstream, alternating the two.

Usage: python3 benches/mcp.py WAYGATE_BIN   (prints a table; see benches/mcp.sh)
"""

import http.client
import http.server
import json
import os
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BIN = sys.argv[1]
ADMIN = "bench-operator-key-0123456789abcdef"
ACTIONS_PER_INTEGRATION = 1000
INTEGRATIONS = 10
CALLS = 300


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        data = b'{"ok":true,"items":[1,2,3]}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def start_upstream():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Upstream)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


class Conn:
    """One keep-alive connection to the gateway."""

    def __init__(self, port, key):
        self.c = http.client.HTTPConnection("127.0.0.1", port)
        self.key = key

    def post(self, path, body, extra=None):
        headers = {"authorization": f"Bearer {self.key}", "content-type": "application/json",
                   "accept": "application/json, text/event-stream", **(extra or {})}
        start = time.perf_counter()
        self.c.request("POST", path, json.dumps(body), headers)
        response = self.c.getresponse()
        data = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if response.status >= 300:
            sys.exit(f"{path}: {response.status} {data[:300]!r}")
        return json.loads(data), elapsed

    def rpc(self, query, method, params):
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        answer, ms = self.post("/mcp" + query, body, {"mcp-protocol-version": "2025-11-25"})
        if "error" in answer:
            sys.exit(f"{method}: {answer['error']}")
        return answer["result"], ms


def summary(samples):
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    return f"median {statistics.median(samples):7.2f} ms   p95 {p95:7.2f} ms   (n={len(samples)})"


def main():
    upstream = start_upstream()
    data = tempfile.mkdtemp(prefix="waygate-mcp-bench-")
    env = {**os.environ, "WAYGATE_ADMIN_KEY": ADMIN, "WAYGATE_TENANT_RATE_LIMIT": "0",
           "WAYGATE_ALLOW_PRIVATE_NETWORKS": "1", "RUST_LOG": "warn"}
    server = subprocess.Popen([BIN, "serve", "--addr", "127.0.0.1:0", "--data-dir", data],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        port = int(server.stdout.readline().strip().rsplit(":", 1)[1])
        admin = Conn(port, ADMIN)
        created, _ = admin.post("/api/v1/tenants", {"name": "bench"})
        gw = Conn(port, created["apiKey"])
        for i in range(INTEGRATIONS):
            actions = [{"slug": f"op_{j:04d}", "method": "GET", "path": f"/items/{j}",
                        "parameters": [{"name": "limit", "in": "query"}, {"name": "q", "in": "query"}],
                        "description": f"Operation {j} of integration {i}: lists items",
                        "inputSchema": {"type": "object", "properties": {
                            "limit": {"type": "integer", "minimum": 1}, "q": {"type": "string"}}}}
                       for j in range(ACTIONS_PER_INTEGRATION)]
            gw.post("/api/v1/integrations", {"slug": f"int-{i}", "name": f"Integration {i}",
                                             "baseUrl": upstream, "auth": {"type": "none"}, "actions": actions})
        total = INTEGRATIONS * ACTIONS_PER_INTEGRATION

        _, cold = gw.rpc("", "tools/list", {})
        firsts = [gw.rpc("", "tools/list", {})[1] for _ in range(50)]
        pages, listing, cursor, tools = [], [], None, 0
        for _ in range(3):
            start, cursor, tools = time.perf_counter(), None, 0
            while True:
                result, ms = gw.rpc("", "tools/list", {"cursor": cursor} if cursor else {})
                pages.append(ms)
                tools += len(result["tools"])
                cursor = result.get("nextCursor")
                if not cursor:
                    break
            listing.append((time.perf_counter() - start) * 1000)
        assert tools == total, tools
        meta_list = [gw.rpc("?mode=meta", "tools/list", {})[1] for _ in range(50)]
        search = [gw.rpc("?mode=meta", "tools/call",
                         {"name": "search_actions", "arguments": {"query": "operation 512 items"}})[1]
                  for _ in range(50)]

        invoke, mcp = [], []
        first, _ = gw.post("/api/v1/actions/int-3/op_0042", {"input": {"limit": 5}})
        assert first["data"]["ok"], first
        for _ in range(20):  # warm-up of both paths
            gw.post("/api/v1/actions/int-3/op_0042", {"input": {"limit": 5}})
            gw.rpc("", "tools/call", {"name": "int-3__op_0042", "arguments": {"limit": 5}})
        for _ in range(CALLS):
            invoke.append(gw.post("/api/v1/actions/int-3/op_0042", {"input": {"limit": 5}})[1])
            result, ms = gw.rpc("", "tools/call", {"name": "int-3__op_0042", "arguments": {"limit": 5}})
            assert not result["isError"], result
            mcp.append(ms)

        print(f"tenant with {total} actions ({INTEGRATIONS} integrations), page size 100, binary {BIN}")
        print(f"tools/list first page, cold (built from the store): {cold:7.2f} ms")
        print(f"tools/list first page, warm:      {summary(firsts)}")
        print(f"tools/list any page (3 listings): {summary(pages)}")
        print(f"tools/list all {tools} tools:     {summary(listing)}")
        print(f"meta mode tools/list:             {summary(meta_list)}")
        print(f"meta mode search_actions call:    {summary(search)}")
        print(f"gateway invoke:                   {summary(invoke)}")
        print(f"MCP tools/call, same action:      {summary(mcp)}")
        print(f"MCP overhead (median difference): {statistics.median(mcp) - statistics.median(invoke):7.2f} ms")
    finally:
        server.terminate()
        server.wait()


main()
