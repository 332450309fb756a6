"""LangChain against the gateway: langchain-mcp-adapters (which speaks the
2025-era protocol, on mcp 1.x) against /mcp — every tool loads, and one runs
through the gateway — and the OpenAI export bound to a chat model with
langchain-openai's `bind_tools` (no request is made: binding converts and
checks the definitions).

Run by tests/mcp/acceptance.sh with WG_URL, WG_KEY and WG_TOOL_COUNT set.
"""

import asyncio
import json
import os
import sys
import urllib.request

from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_openai import ChatOpenAI


async def main():
    client = MultiServerMCPClient({"waygate": {
        "transport": "streamable_http",
        "url": os.environ["WG_URL"] + "/mcp",
        "headers": {"Authorization": f"Bearer {os.environ['WG_KEY']}"},
    }})
    tools = await client.get_tools()
    expected = int(os.environ["WG_TOOL_COUNT"])
    if len(tools) != expected:
        sys.exit(f"FAIL: langchain loaded {len(tools)} of {expected} tools")
    show = next(t for t in tools if t.name == "pets__showPetById")
    answer = await show.ainvoke({"petId": "Rex"})
    if "Rex" not in str(answer):
        sys.exit(f"FAIL: langchain tool call answered {answer!r}")
    print(f"langchain-mcp-adapters: {len(tools)} tools loaded, one run")


def bind_openai_export():
    request = urllib.request.Request(
        os.environ["WG_URL"] + "/api/v1/tools?format=openai&strict=true",
        headers={"Authorization": f"Bearer {os.environ['WG_KEY']}"},
    )
    with urllib.request.urlopen(request) as response:
        exported = json.load(response)["tools"]
    model = ChatOpenAI(model="gpt-4o-mini", api_key="sk-bind-tools-only")
    bound = model.bind_tools(exported)
    names = [t["function"]["name"] for t in bound.kwargs["tools"]]
    if names != [t["function"]["name"] for t in exported]:
        sys.exit("FAIL: bind_tools changed the exported tools")
    strict = sum(1 for t in bound.kwargs["tools"] if t["function"].get("strict"))
    print(f"langchain-openai bind_tools: {len(names)} tools bound, {strict} strict")


asyncio.run(main())
bind_openai_export()
