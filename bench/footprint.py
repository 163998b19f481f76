"""The node's footprint (issue 7, figure 6): `node serve` start-up and idle RSS, and bytes on the wire per record."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
import uuid

from bench import env
from bench.common import Config, Result
from shared.sync import store
from shared.sync.protocol import (
    PROTOCOL,
    Batch,
    PushRequest,
    pack,
    raw_array,
)


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def footprint(cfg: Config) -> list[Result]:
    tree = env.build_tree(2, 10, 0)
    base = tree.bases[0]
    out: list[Result] = []
    if cfg.quick:
        # Starting a process is seconds of imports on a busy machine: the smoke run leaves it to full runs.
        out.append(Result("node footprint: `nqsync node serve` start-up and idle RSS", "not run in --quick"))
    else:
        out.extend(await _serve_footprint(cfg, tree))
    out.extend(_wire_bytes(base.id))
    return out


async def _serve_footprint(cfg: Config, tree: env.Tree) -> list[Result]:
    base = tree.bases[0]
    hub = await env.Hub.create(cfg.dbs, tree, cfg.tmp)
    await hub.enrol([base])
    await hub.start(workers=1)
    starts, rss = [], []
    try:
        for i in range(cfg.repeat):
            data = cfg.tmp / f"node-serve-{i}"
            node = await env.node_database(cfg.template, data / "nqsync.sqlite3", base.id, hub)
            await node.dispose()
            port = env.free_port()
            t = time.perf_counter()
            proc = subprocess.Popen(  # noqa: ASYNC220 - timed from here; nothing else runs meanwhile
                [env.nqsync_exe(), "node", "serve", "--data", str(data), "--port", str(port), "--interval", "3600"],
                stdout=subprocess.DEVNULL,
                env={k: v for k, v in os.environ.items() if not k.startswith("NQSYNC_")},
            )
            try:
                env.wait_http(port, proc)
                starts.append(time.perf_counter() - t)
                await asyncio.sleep(3.0)  # its first sync round done, then idle
                rss.append(_rss_kib(proc.pid) / 1024)
            finally:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    finally:
        await hub.close()
    return [
        Result(
            "node footprint: `nqsync node serve` start-up (to /health answering)",
            f"{env.median(starts):.2f} s",
            note=env.spread(starts),
            raw={"start_s": starts},
        ),
        Result(
            "node footprint: idle RSS of `nqsync node serve`",
            f"{env.median(rss):.0f} MiB",
            note=env.spread(rss),
            raw={"rss_mib": rss},
        ),
    ]


def _wire_bytes(owner: uuid.UUID) -> list[Result]:
    """Bytes on the wire per essay-grade record: the record itself, and its share of a push body."""
    records = env.grades([owner], 5000)
    wires = [store.encode_record(r) for r in records]
    raw = sum(map(len, wires)) / len(wires)

    def body(ws: list[bytes], compress: bool) -> int:
        req = PushRequest(protocol=PROTOCOL, after=0, upto=len(ws), batches=[Batch("essay_grade", raw_array(ws))])
        return len(pack(req, compress=compress))

    batch_plain, batch_z = body(wires, False) / len(wires), body(wires, True) / len(wires)
    one_plain, one_z = body(wires[:1], False), body(wires[:1], True)
    return [
        Result(
            "bytes on the wire per essay-grade record",
            f"{raw:.0f} B record; in a 5,000-record push {batch_plain:.0f} B plain, {batch_z:.0f} B zstd",
            note=f"a 1-record push body: {one_plain} B plain, {one_z} B zstd",
            raw={"record": raw, "batch_plain": batch_plain, "batch_zstd": batch_z},
        ),
    ]
