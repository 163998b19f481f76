"""The benchmarks of issue 7 by name, one module per family. Each returns `Result`s: the figure, the baseline
measured in the same run, the ratio.
"""

from __future__ import annotations

from bench.backup import backup
from bench.burst import burst
from bench.common import Config, Result
from bench.consolidation import consolidation
from bench.footprint import footprint
from bench.noop import noop
from bench.transfer import bootstrap, push

__all__ = ["CASES", "Config", "Result"]

CASES = {
    "push": push,
    "bootstrap": bootstrap,
    "noop": noop,
    "burst": burst,
    "consolidation": consolidation,
    "footprint": footprint,
    "backup": backup,
}
