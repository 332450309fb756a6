"""langchain-mcp-adapters (which speaks the 2025-era protocol, on mcp 1.x)
against /mcp: every tool loads, and one runs through the gateway.

Run by tests/mcp/acceptance.sh with WG_URL, WG_KEY and WG_TOOL_COUNT set.
"""

import asyncio
import os
import sys

from langchain_mcp_adapters.client import MultiServerMCPClient


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


asyncio.run(main())
