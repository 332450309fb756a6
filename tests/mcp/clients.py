"""Acceptance of Waygate's MCP server and tool exports with the vendors' own code.

Run by tests/mcp/acceptance.sh against a running `waygate serve` (see there).
Checks, each failing loudly:
  1. The `openai` and `anthropic` PyPI packages accept every exported tool of the
     Slack, Twilio and DigitalOcean imports: their typed params validate the tool
     objects, OpenAI's strict-schema helper and Anthropic's `transform_schema`
     leave every strict schema unchanged (it already follows their rules), and
     OpenAI's `validate_input_tools` accepts the strict tools.
  2. The official Python `mcp` SDK, in auto mode (2026-07-28 via server/discover)
     and legacy mode (initialize): list following cursors, a call, an error
     result, an unknown tool; another tenant sees no tools.
  3. The same SDK over stdio (`waygate mcp`): list, call, and a
     tools/list_changed notification after an import.
"""

import asyncio
import copy
import json
import os
import re
import sys
import urllib.request

import anthropic.types
import httpx2
import openai.types.chat
import openai.types.responses
from anthropic.lib._parse._transform import transform_schema
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from openai.lib._parsing._completions import validate_input_tools
from openai.lib._pydantic import _ensure_strict_json_schema
from pydantic import TypeAdapter

URL = os.environ["WG_URL"]
KEY = os.environ["WG_KEY"]
OTHER_KEY = os.environ["WG_OTHER_KEY"]
BIN = os.environ["WG_BIN"]
DATA_DIR = os.environ["WG_DATA_DIR"]
TENANT = os.environ["WG_TENANT"]
INTEGRATIONS = os.environ["WG_FIXTURE_INTEGRATIONS"]  # comma-separated slugs
PETS_SPEC = os.environ["WG_PETSTORE"]
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def api(path, method="GET", body=None, key=KEY):
    request = urllib.request.Request(
        URL + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def check(condition, message):
    if not condition:
        sys.exit(f"FAIL: {message}")


def vendor_sdks():
    query = f"integrations={INTEGRATIONS}&strict=true"
    openai_tools = api(f"/api/v1/tools?format=openai&{query}")
    responses_tools = api(f"/api/v1/tools?format=openai-responses&{query}")
    anthropic_tools = api(f"/api/v1/tools?format=anthropic&{query}")
    gemini_tools = api(f"/api/v1/tools?format=gemini&integrations={INTEGRATIONS}")
    total = len(openai_tools["tools"])
    check(total > 1000, f"{total} tools exported")
    chat_param = TypeAdapter(openai.types.chat.ChatCompletionFunctionToolParam)
    responses_param = TypeAdapter(openai.types.responses.FunctionToolParam)
    anthropic_param = TypeAdapter(anthropic.types.ToolParam)
    strict = []
    for tool in openai_tools["tools"]:
        function = tool["function"]
        check(NAME.match(function["name"]) and len(function["name"]) <= 48, function["name"])
        chat_param.validate_python(tool)
        if function["strict"]:
            params = copy.deepcopy(function["parameters"])
            fixed = _ensure_strict_json_schema(params, path=(), root=params)
            check(fixed == function["parameters"], f"OpenAI's strict helper changed {function['name']}:\n"
                  f"{json.dumps(function['parameters'])[:1500]}\n{json.dumps(fixed)[:1500]}")
            strict.append(tool)
    validate_input_tools(strict)
    for tool in responses_tools["tools"]:
        responses_param.validate_python(tool)
    anthropic_strict = 0
    for tool in anthropic_tools["tools"]:
        anthropic_param.validate_python(tool)
        if tool.get("strict"):
            anthropic_strict += 1
            transformed = transform_schema(copy.deepcopy(tool["input_schema"]))
            check(transformed == tool["input_schema"], f"Anthropic's transform_schema changed {tool['name']}:\n"
                  f"{json.dumps(tool['input_schema'])[:600]}\n{json.dumps(transformed)[:600]}")
    for tool in gemini_tools["tools"]:
        check(NAME.match(tool["name"]), tool["name"])
        check("$ref" not in json.dumps(tool), f"{tool['name']}: $ref in a Gemini declaration")
    notes = len(openai_tools["notes"])
    check(len(strict) + notes == total, "every non-strict tool has a reason")
    print(f"vendor SDKs: {total} tools; OpenAI strict {len(strict)} (non-strict with reasons: {notes}); "
          f"Anthropic strict {anthropic_strict}")


def http_client(key):
    return streamable_http_client(
        URL + "/mcp", http_client=httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}))


async def list_all(client):
    tools, cursor, pages = [], None, 0
    while True:
        page = await client.list_tools(cursor=cursor, cache_mode="refresh") if cursor is None else \
            await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        pages += 1
        cursor = page.next_cursor
        if not cursor:
            return tools, pages


async def mcp_http(mode):
    expected = len(api("/api/v1/tools?format=mcp")["tools"])
    async with Client(http_client(KEY), mode=mode) as client:
        tools, pages = await list_all(client)
        check(len(tools) == expected and pages > 1, f"{mode}: {len(tools)} tools in {pages} pages, expected {expected}")
        check(all(NAME.match(t.name) for t in tools), "portable names")
        result = await client.call_tool("pets__listPets", {"limit": None})
        check(not result.is_error, f"{mode}: call failed: {result}")
        check(result.structured_content["result"][0]["name"] == "Rex", f"{mode}: {result.structured_content}")
        bad = await client.call_tool("pets__listPets", {"limit": "ten"})
        check(bad.is_error and "VALIDATION_ERROR" in bad.content[0].text, f"{mode}: {bad}")
        try:
            await client.call_tool("pets__nope", {})
            check(False, f"{mode}: an unknown tool was accepted")
        except Exception as e:  # the SDK raises McpError for protocol errors
            check("unknown tool" in str(e), f"{mode}: {e}")
        print(f"mcp SDK over HTTP ({mode}, protocol {client.protocol_version}): {len(tools)} tools in {pages} pages, call, isError, unknown tool")
    async with Client(http_client(OTHER_KEY), mode=mode) as client:
        page = await client.list_tools()
        check(page.tools == [], f"another tenant sees {len(page.tools)} tools")


async def mcp_stdio():
    changed = asyncio.Event()

    async def on_message(message):
        if "ToolListChanged" in type(getattr(message, "root", message)).__name__ or \
                "tools/list_changed" in repr(message):
            changed.set()

    params = StdioServerParameters(
        command=BIN, args=["mcp", "--tenant", TENANT, "--data-dir", DATA_DIR],
        env={**os.environ, "WAYGATE_ALLOW_PRIVATE_NETWORKS": "1", "RUST_LOG": "warn"})
    async with Client(params, mode="legacy", message_handler=on_message) as client:
        tools, _ = await list_all(client)
        result = await client.call_tool("pets__showPetById", {"petId": "Rex"})
        check(not result.is_error and result.structured_content["name"] == "Rex", f"stdio call: {result}")
        spec = open(PETS_SPEC).read()
        api("/api/v1/integrations/import", "POST", {"openapi": spec, "slug": "pets-two", "baseUrl": "http://127.0.0.1:9"})
        await asyncio.wait_for(changed.wait(), timeout=15)
        after, _ = await list_all(client)
        check(len(after) == len(tools) + 3, f"{len(tools)} → {len(after)} tools after an import")
        print(f"mcp SDK over stdio: {len(tools)} tools, call, list_changed after an import ({len(after)} tools)")


vendor_sdks()
asyncio.run(mcp_http("auto"))
asyncio.run(mcp_http("legacy"))
asyncio.run(mcp_stdio())
print("clients: all checks passed")
