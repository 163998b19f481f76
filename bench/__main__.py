"""Run the benchmark suite: `uv run python -m bench [--quick] [--only push,noop] [--repeat N] [--markdown FILE]`.

Needs PostgreSQL (NQSYNC_BENCH_DATABASE_URL, else NQSYNC_TEST_DATABASE_URL, else postgres@127.0.0.1:5432); creates
and drops its own databases. Prints the machine, then each figure with the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

from bench import env
from bench.cases import CASES, Config, Result
from bench.growth import growth

CASES = {**CASES, "growth": growth}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="seconds-long smoke run: small sizes, one repetition")
    p.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(CASES)}")
    p.add_argument("--repeat", type=int, default=0, help="repetitions per figure (default 3, quick 1); median shown")
    p.add_argument("--rows", type=int, default=0, help="records for push and bootstrap (default 100,000)")
    p.add_argument("--nodes", type=int, default=0, help="simulated nodes in the burst (default 3,000)")
    p.add_argument("--workers", type=int, default=2, help="hub worker processes in the burst (default 2)")
    p.add_argument("--window", type=float, default=10.0, help="seconds over which the burst's nodes arrive")
    p.add_argument(
        "--no-sweep", action="store_true", help="skip the burst's search for the sustainable arrival rate (minutes)"
    )
    p.add_argument("--markdown", type=Path, help="also write the results as a Markdown table to this file")
    p.add_argument("--json", type=Path, help="also write the raw results as JSON to this file")
    return p.parse_args(argv)


def table(machine: dict[str, str], results: list[Result]) -> str:
    lines = ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in machine.items()), ""]
    lines += [
        "| benchmark | figure | baseline (same run) | ratio | target | met | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        met = {True: "yes", False: "**no**", None: "—"}[r.met]
        lines.append(f"| {r.name} | {r.figure} | {r.baseline} | {r.ratio} | {r.target} | {met} | {r.note} |")
    return "\n".join(lines) + "\n"


async def main(args: argparse.Namespace) -> int:
    # The node's client logs every request at INFO; thousands of lines would drown the figures.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    quick = args.quick
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(CASES)}", file=sys.stderr)
        return 2
    machine = env.machine()
    machine["postgresql"] = await env.postgres_version()
    machine["mode"] = "quick (smoke sizes: figures not meaningful)" if quick else "full"
    width = max(map(len, machine))
    for k, v in machine.items():
        print(f"{k:<{width}}  {v}")
    print()
    dbs = env.Databases()
    results: list[Result] = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="nqbench-") as tmp_name:
        tmp = Path(tmp_name)
        template = env.SqliteTemplate(tmp)
        cfg = Config(
            quick=quick,
            repeat=args.repeat or (1 if quick else 3),
            tmp=tmp,
            dbs=dbs,
            template=template,
            push_rows=args.rows or (1_000 if quick else 100_000),
            bootstrap_rows=args.rows or (1_000 if quick else 100_000),
            noop_rounds=10 if quick else 300,
            burst_nodes=args.nodes or (20 if quick else 3000),
            burst_window=1.0 if quick and args.window == 10.0 else args.window,
            burst_workers=args.workers,
            burst_sweep=not args.no_sweep,
        )
        try:
            await dbs.start()
            await template.start()
            for name in names:
                print(f"== {name}")
                t = time.perf_counter()
                try:
                    got = await CASES[name](cfg)
                except Exception as exc:
                    failed = True
                    got = [Result(name, "FAILED", note=f"{type(exc).__name__}: {exc}")]
                    import traceback

                    traceback.print_exc()
                for r in got:
                    met = {True: "met", False: "NOT MET", None: ""}[r.met]
                    print(f"  {r.name}\n    {r.figure}")
                    if r.baseline:
                        print(f"    baseline {r.baseline}; ratio {r.ratio}")
                    if r.target:
                        print(f"    target {r.target}: {met}")
                    if r.note:
                        print(f"    {r.note}")
                print(f"  ({time.perf_counter() - t:.1f} s)")
                results.extend(got)
        finally:
            await dbs.drop()
    if args.markdown:
        args.markdown.write_text(table(machine, results))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "results": [r.__dict__ for r in results]}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
