"""A paced load: requests offered at a fixed rate, each latency counted from when it was due.

`wrk -c8` is a closed loop: each connection sends its next request when the last answer
arrives, so at saturation its p99 mixes the queue it builds itself with the service time, and
a stall delays the requests that would have been sent meanwhile instead of counting them as
late (coordinated omission). A target such as "150 req/s with p99 <= 100 ms" is about an
open load: requests arrive at 150 a second whatever the server does. Here `connections`
keep-alive connections each owe one request every `connections / rate` seconds, staggered;
a request is due at its slot, sent then (or as soon as its connection is free, when the last
answer came late), and its latency runs from the slot to the last byte of the answer. A
server that keeps up shows its service time; one that falls behind shows the queue.

Used by `serving_bench.py`; standard library only (asyncio streams, HTTP/1.1 keep-alive,
`Content-Length` or chunked bodies), one thread, so the client costs the server's cores
little at these rates. Every read has a deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

READ_SECONDS = 30.0


@dataclass
class PacedResult:
    """What a paced run measured; latencies in ms from each request's due time."""

    offered: float
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    latest_send_ms: float = 0.0

    @property
    def achieved(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return float("inf")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _read_answer(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response to its end; its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return status


async def _connection(
    host: str,
    port: int,
    paths: Iterator[str],
    *,
    first_due: float,
    interval: float,
    until: float,
    result: PacedResult,
) -> None:
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        due = first_due
        while due < until:
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            result.latest_send_ms = max(result.latest_send_ms, (loop.time() - due) * 1000)
            path = next(paths)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            try:
                status = await asyncio.wait_for(_read_answer(reader), READ_SECONDS)
            except (
                TimeoutError,
                OSError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                ValueError,
            ):
                result.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
            else:
                result.latencies.append((loop.time() - due) * 1000)
                result.statuses[status] = result.statuses.get(status, 0) + 1
            due += interval
    finally:
        writer.close()


async def _run(
    host: str, port: int, paths: list[str], rate: float, seconds: float, connections: int
) -> PacedResult:
    loop = asyncio.get_running_loop()
    interval = connections / rate
    start = loop.time() + 0.2
    result = PacedResult(offered=rate, seconds=seconds)
    queue = iter(paths * (1 + int(rate * seconds) // max(1, len(paths))))
    await asyncio.gather(
        *(
            _connection(
                host,
                port,
                queue,
                first_due=start + k * interval / connections,
                interval=interval,
                until=start + seconds,
                result=result,
            )
            for k in range(connections)
        )
    )
    return result


def paced(
    host: str, port: int, paths: list[str], *, rate: float, seconds: float, connections: int = 32
) -> PacedResult:
    """Offer `rate` requests a second for `seconds` over `connections` keep-alive connections."""
    began = time.monotonic()
    # A thread of its own: asyncio.run refuses to start inside a thread whose loop is already
    # running (a caller that drives a browser, for one).
    with ThreadPoolExecutor(max_workers=1) as pool:
        result = pool.submit(
            asyncio.run, _run(host, port, paths, rate, seconds, connections)
        ).result()
    result.seconds = max(seconds, time.monotonic() - began - 0.2)
    return result
