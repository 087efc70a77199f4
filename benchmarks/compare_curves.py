"""Two runs' TensorBoard scalars side by side, averaged over windows of steps (e.g. float32 against
``train.compute_dtype=bfloat16`` from the same seed):

    python benchmarks/compare_curves.py runs/p2p_float32 runs/p2p_bfloat16 --window 500 \
        --tags d/loss,g/adversarial,g/l1

Prints a markdown table: per window and tag, each run's mean and the relative difference of the second
to the first. Needs the ``tensorboard`` package (the test extra) for its event-file reader.
"""

from __future__ import annotations

import os
from typing import Dict, List, Tuple

import numpy as np
from absl import app, flags
from tensorboard.backend.event_processing import event_accumulator

FLAGS = flags.FLAGS
flags.DEFINE_list("tags", ["d/loss", "g/loss"], "Scalar tags to compare.")
flags.DEFINE_integer("window", 500, "Steps per window.")


def scalars(workdir: str, tags: List[str]) -> Dict[str, List[Tuple[int, float]]]:
    """tag -> [(step, value)] from ``workdir/tensorboard``; a clear error for a missing tag."""
    acc = event_accumulator.EventAccumulator(os.path.join(workdir, "tensorboard"),
                                             size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    missing = [t for t in tags if t not in acc.Tags()["scalars"]]
    if missing:
        raise SystemExit(f"{workdir}: no scalar {missing}; it has {sorted(acc.Tags()['scalars'])}")
    return {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in tags}


def window_means(points: List[Tuple[int, float]], window: int) -> Dict[int, float]:
    """Window start -> mean of the values logged at steps in [start, start + window)."""
    groups: Dict[int, List[float]] = {}
    for step, value in points:
        groups.setdefault((step - 1) // window * window, []).append(value)
    return {start: float(np.mean(v)) for start, v in sorted(groups.items())}


def main(argv):
    if len(argv) != 3:
        raise app.UsageError("usage: compare_curves.py RUN_A RUN_B [--tags ...] [--window N]")
    a, b = (scalars(w, FLAGS.tags) for w in argv[1:])
    names = [os.path.basename(os.path.normpath(w)) for w in argv[1:]]
    print("| steps | " + " | ".join(f"{t}: {names[0]} | {names[1]} | diff" for t in FLAGS.tags) + " |")
    print("|" + " --- |" * (1 + 3 * len(FLAGS.tags)))
    means = {t: (window_means(a[t], FLAGS.window), window_means(b[t], FLAGS.window)) for t in FLAGS.tags}
    for start in sorted(means[FLAGS.tags[0]][0]):
        cells = [f"{start + 1}-{start + FLAGS.window}"]
        for t in FLAGS.tags:
            x, y = means[t][0].get(start), means[t][1].get(start)
            cells += ["-" if x is None else f"{x:.4f}", "-" if y is None else f"{y:.4f}",
                      "-" if x is None or y is None else f"{100 * (y - x) / abs(x):+.1f}%"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    app.run(main)
