"""Resident memory of `flowgen serve`, flow by flow: where the runtime issue's 600 MB go.

    python benchmarks/serve_memory.py [--flows 12] [--installation acme-itsm]

Starts `flowgen serve` on a free loopback port (default settings: the shipped adapter,
the embedded runtime), posts dev requirements of one installation one after another,
and after start-up and each flow prints the process's resident memory from
`/proc/PID/smaps_rollup` (file-backed: mapped model and libraries; anonymous: heaps, KV
cache, buffers), plus the peak the kernel recorded (`VmHWM`). Environment variables
reach the service, so settings compare by running it twice (`FLOWGEN_KV_KEYS=q8_0`).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from load_test import free_port, start_service  # this folder: run as a script
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
console = Console()


def memory_mb(pid: int) -> dict[str, int]:
    """Resident MB of the process: total, file-backed, anonymous, and the peak so far."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value)
    peak = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmHWM:")
    )
    rss = fields["Rss"]
    anonymous = fields.get("Anonymous", 0)
    return {
        "rss": rss // 1024,
        "file": (rss - anonymous) // 1024,
        "anonymous": anonymous // 1024,
        "peak": peak // 1024,
    }


def largest_mappings(pid: int, n: int = 12) -> list[tuple[int, str]]:
    """The `n` mappings holding the most resident memory: (MB, what), anonymous ones
    named by their address range and size, files by their path."""
    found: list[tuple[int, str]] = []
    header = ""
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        first = line.split()[0]
        if "-" in first and not first.endswith(":"):
            header = line
        elif first == "Rss:":
            parts = header.split()
            start, end = (int(x, 16) for x in parts[0].split("-"))
            name = parts[5] if len(parts) > 5 else f"anonymous {(end - start) >> 20} MB mapping"
            found.append((int(line.split()[1]) >> 10, name))
    return sorted(found, reverse=True)[:n]


def main(
    flows: Annotated[int, typer.Option(help="Dev flows posted one after another.")] = 12,
    installation: Annotated[str, typer.Option()] = "acme-itsm",
    out: Annotated[Path | None, typer.Option(help="Write the rows as JSON here.")] = None,
    mappings: Annotated[bool, typer.Option(help="Show the largest mappings.")] = False,
) -> None:
    from flowgen.db.connection import get_engine
    from flowgen.db.keys import KeyStore
    from flowgen.db.sync import sync_file
    from flowgen.shipped import catalogs

    engine = get_engine()
    sync_file(catalogs()[installation], engine)
    key = KeyStore(engine).create(installation, "memory benchmark")
    requirements = [
        case["requirement"]
        for case in map(json.loads, (REPO / "data" / "handwritten.jsonl").open())
        if case["installation"] == installation
        and case["split"] == "dev"
        and case.get("flow")
        and "-long-" not in case["id"]
    ][:flows]
    port = free_port()
    service = start_service(port)
    rows: list[dict[str, object]] = []
    try:
        rows.append({"after": "ready", "seconds": 0.0, **memory_mb(service.pid)})
        if mappings:
            console.print("ready:", largest_mappings(service.pid))
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=600,
        ) as client:
            for n, requirement in enumerate(requirements, 1):
                start = time.monotonic()
                response = client.post(
                    f"/v1/installations/{installation}/flows",
                    json={"requirement": requirement},
                )
                seconds = round(time.monotonic() - start, 2)
                if response.status_code != 200:
                    console.print(f"[red]flow {n}: HTTP {response.status_code}[/]")
                rows.append({"after": f"flow {n}", "seconds": seconds, **memory_mb(service.pid)})
        if mappings:
            console.print(f"after {len(requirements)} flows:", largest_mappings(service.pid))
    finally:
        service.terminate()
        service.wait(timeout=60)

    table = Table("after", "s", "RSS MB", "file MB", "anonymous MB", "peak MB")
    columns = ("after", "seconds", "rss", "file", "anonymous", "peak")
    for row in rows:
        table.add_row(*(str(row[k]) for k in columns))
    console.print(table)
    console.print(f"peak RSS (VmHWM) of the service: {rows[-1]['peak']} MB")
    if out:
        out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(typer.run(main))
