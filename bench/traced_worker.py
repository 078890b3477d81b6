"""`wirewatch run` under tracemalloc, for bench_soak.py --tracemalloc: what the service holds,
by call chain, is written at the given minutes (`<folder>/minute-<N>.stats`, a pickled list of
(frames, bytes, blocks); frames are (file, line), the innermost last), to be compared.

    python bench/traced_worker.py FOLDER MINUTE [MINUTE ...]

tracemalloc makes the process slower and larger: its RSS is not the service's.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time
import tracemalloc
from pathlib import Path

FRAMES = 4  # enough to see which cache or structure an allocation belongs to


def snapshots(folder: Path, minutes: list[float], started: float) -> None:
    for minute in sorted(minutes):
        time.sleep(max(0.0, started + minute * 60 - time.monotonic()))
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__)]
        )
        stats = [
            (tuple((f.filename, f.lineno) for f in stat.traceback), stat.size, stat.count)
            for stat in snapshot.statistics("traceback")
        ]
        del snapshot
        path = folder / f"minute-{minute:g}.stats"
        path.with_suffix(".part").write_bytes(pickle.dumps(stats))
        os.replace(path.with_suffix(".part"), path)  # whole, or not there yet
        del stats  # not to be in the next snapshot


def main() -> int:
    folder, minutes = Path(sys.argv[1]), [float(m) for m in sys.argv[2:]]
    tracemalloc.start(FRAMES)
    args = (folder, minutes, time.monotonic())
    threading.Thread(target=snapshots, args=args, daemon=True).start()
    from ingest.cli import main as wirewatch

    return wirewatch(["run"])


if __name__ == "__main__":
    raise SystemExit(main())
