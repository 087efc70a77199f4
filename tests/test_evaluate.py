"""The evaluation command end to end on the tiny trained run of test_cli, and its input checks."""

import json

import pytest

from jaxgan import evaluate
from jaxgan.errors import ConfigError

from test_cli import _run, trained  # noqa: F401  (trained: the tiny cGAN run, a module fixture)

OWN = {"accuracy", "per_class_accuracy", "inception_score", "inception_score_std", "ms_ssim", "per_class_ms_ssim"}
COMPARED = {"fcd", "intra_fcd", "per_class_intra_fcd", "precision", "recall"}


def test_evaluate_command_writes_every_metric_and_prints_the_table(trained):  # noqa: F811
    workdir, _ = trained
    result = _run("jaxgan.evaluate", "--workdir", str(workdir), "--num_samples=40", "--batch_size=20",
                  "--reference", "--parzen")
    assert result.returncode == 0, result.stderr
    with open(workdir / "eval" / "step_2.json") as f:
        saved = json.load(f)
    rows = saved["rows"]
    assert list(rows) == ["generated", "real_train", "real_test"]
    for name in ("generated", "real_train"):
        assert set(rows[name]) == OWN | COMPARED | {"parzen"}
    assert set(rows["real_test"]) == OWN  # Not compared with itself.
    for row in rows.values():
        for key in ("per_class_accuracy", "per_class_ms_ssim", "per_class_intra_fcd"):
            assert len(row.get(key, [0] * 10)) == 10
        assert 1.0 <= row["inception_score"] <= 10.0 and 0.0 <= row["ms_ssim"] <= 1.0
    real = rows["real_train"]
    assert real["accuracy"] >= 0.9 and 0.0 <= real["precision"] <= 1.0 and 0.0 <= real["recall"] <= 1.0
    assert rows["real_test"]["inception_score"] > 9.0  # A confident classifier on balanced real digits.
    assert rows["generated"]["fcd"] > real["fcd"]  # Two training steps are not MNIST.
    out = result.stdout
    for header in ("accuracy", "IS", "FCD", "intra-FCD", "precision", "recall", "MS-SSIM", "Parzen LL"):
        assert header in out.splitlines()[1]
    for line in ("generated ", "real_train ", "real_test ", "per class", "generated intra-FCD",
                 "real_test MS-SSIM", "Wrote "):
        assert line in out, out


def test_too_few_samples_is_a_config_error(trained):  # noqa: F811
    workdir, _ = trained
    with pytest.raises(ConfigError, match="at least 10 samples and two of each of the 10 classes"):
        evaluate.evaluate(str(workdir), num_samples=19)


def test_other_noise_seed_or_raw_generator_gets_its_own_file(trained):  # noqa: F811
    workdir, _ = trained
    result = evaluate.evaluate(str(workdir), num_samples=20, batch_size=20, seed=3, use_ema=False)
    with open(evaluate.result_path(str(workdir), result)) as f:
        saved = json.load(f)
    assert saved["seed"] == 3 and saved["ema"] is False
    suffix = "_noema_seed3" if saved["ema_skipped"] else "_seed3"
    assert (workdir / "eval" / f"step_2{suffix}.json").exists()
    assert evaluate.result_path("w", dict(step=7, seed=0, ema_skipped=False)) == "w/eval/step_7.json"
    assert evaluate.result_path("w", dict(step=7, seed=0, ema_skipped=True)) == "w/eval/step_7_noema.json"
