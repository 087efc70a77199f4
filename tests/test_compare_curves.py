"""benchmarks/compare_curves.py: window means of two runs' TensorBoard scalars, read back from real event files."""

import sys

import pytest
from tensorboardX import SummaryWriter

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import compare_curves  # noqa: E402


def _run(path, values):
    with SummaryWriter(str(path / "tensorboard")) as writer:
        for step, value in values:
            writer.add_scalar("d/loss", value, step)
    return str(path)


def test_window_means_of_logged_steps(tmp_path):
    run = _run(tmp_path / "a", [(1, 1.0), (2, 3.0), (3, 5.0), (4, 7.0), (5, 100.0)])
    points = compare_curves.scalars(run, ["d/loss"])["d/loss"]
    assert points == [(1, 1.0), (2, 3.0), (3, 5.0), (4, 7.0), (5, 100.0)]
    # Steps 1-2 -> window 0, 3-4 -> window 2, 5 -> window 4.
    assert compare_curves.window_means(points, 2) == {0: 2.0, 2: 6.0, 4: 100.0}


def test_a_missing_tag_names_the_tags_the_run_has(tmp_path):
    run = _run(tmp_path / "a", [(1, 1.0)])
    with pytest.raises(SystemExit, match=r"no scalar \['g/loss'\]; it has \['d/loss'\]"):
        compare_curves.scalars(run, ["g/loss"])
