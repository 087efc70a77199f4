"""The evaluation command end to end on the tiny trained run of test_cli, and its input checks."""

import json

import numpy as np
import pytest

from jaxgan import evaluate
from jaxgan import train as train_lib
from jaxgan.errors import ConfigError

from conftest import tiny_cgan

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
    real, generated = rows["real_train"], rows["generated"]
    assert real["accuracy"] >= 0.9
    assert rows["real_test"]["inception_score"] > 9.0  # A confident classifier on balanced real digits.
    # IS is exp of a mutual information over 10 splits: with 40 samples, 4 per split, at most 4; real
    # digits, confidently classified into mostly different classes, come close to it.
    assert 3.0 < real["inception_score"] <= 4.0 + 1e-5
    assert real["precision"] >= 0.9 and real["recall"] >= 0.9  # Real training vs real test digits.
    # Two training steps of the MLP cGAN: one blob for every label. The classifier calls every sample the
    # same class (accuracy 1/10 on balanced labels, IS near 1), the samples are near copies of each other
    # (MS-SSIM far above real digits') and cover none of the real data (recall 0).
    assert generated["accuracy"] == pytest.approx(0.1)
    assert sorted(generated["per_class_accuracy"]) == [0.0] * 9 + [1.0]
    assert generated["inception_score"] < 1.2
    assert generated["ms_ssim"] > real["ms_ssim"] + 0.3
    assert generated["recall"] == 0.0
    assert generated["fcd"] > 5 * real["fcd"]
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


def test_other_noise_seed_gets_its_own_file(trained):  # noqa: F811
    workdir, _ = trained  # configs/cgan_mnist.py keeps no EMA: --noema changes nothing, and says so.
    evaluate.evaluate(str(workdir), num_samples=20, batch_size=20, seed=3, use_ema=False)
    with open(workdir / "eval" / "step_2_seed3.json") as f:
        saved = json.load(f)
    assert saved["seed"] == 3 and saved["ema"] is False and saved["ema_skipped"] is False
    assert not (workdir / "eval" / "step_2_noema_seed3.json").exists()
    assert evaluate.result_path("w", dict(step=7, seed=0, ema_skipped=False)) == "w/eval/step_7.json"
    assert evaluate.result_path("w", dict(step=7, seed=0, ema_skipped=True)) == "w/eval/step_7_noema.json"


def test_fid_and_kid_of_the_generated_digits_against_the_real_test_digits(trained, monkeypatch):  # noqa: F811
    """With --inception_weights the generated and real_train rows add FID and KID against the real test
    images, here in stand-in features (the FID Inception network: tests/test_fid.py, test_pix2pix.py); a
    missing weight file is an error naming it, from the command."""
    from jaxgan import restore
    from jaxgan.data.pipeline import to_float_image
    from jaxgan.data.sources import build_source
    from jaxgan.metrics import fid

    from test_engine import pixel_features

    workdir, _ = trained
    monkeypatch.setattr(evaluate.fid, "scorer", lambda path, batch_size: pixel_features)
    result = evaluate.evaluate(str(workdir), num_samples=20, batch_size=20, reference=True, inception_weights="x.npz")
    run = restore.restore_run(str(workdir))
    fake, _ = evaluate.generate(run.method, run.state.generator_variables(), 10, 20, 20, 0)
    test = build_source(run.config.data.source, "test")
    real = to_float_image(test.get(np.arange(len(test)))["image"])
    expected = fid.fid_and_kid(pixel_features(fake), pixel_features(real))
    for key in ("fid", "kid", "kid_std"):
        assert result["rows"]["generated"][key] == pytest.approx(expected[key], rel=1e-4)
    assert result["rows"]["real_train"]["fid"] < result["rows"]["generated"]["fid"]
    assert "fid" not in result["rows"]["real_test"]
    assert "FID and KID against the real test images" in evaluate.format_table(result)
    out = _run("jaxgan.evaluate", "--workdir", str(workdir), "--num_samples=20", "--inception_weights=missing.npz")
    assert out.returncode == 2 and "--inception_weights='missing.npz': no such file" in out.stderr, out.stderr


def test_noema_on_a_run_with_an_ema_evaluates_the_raw_generator(tmp_path):
    """The DCGAN cGAN keeps an EMA of G (decay 0.999): after 2 steps the EMA weights are still near the
    initial ones, the raw weights are not, so the two generators give different metrics; --noema writes
    step_2_noema.json beside the EMA generator's step_2.json."""
    workdir = tmp_path / "dcgan"
    config = tiny_cgan("dcgan")
    config.train.steps = 2
    assert config.train.ema_decay > 0
    train_lib.Trainer(config, str(workdir)).run()
    with_ema = evaluate.evaluate(str(workdir), num_samples=20, batch_size=20)
    result = _run("jaxgan.evaluate", "--workdir", str(workdir), "--num_samples=20", "--batch_size=20", "--noema")
    assert result.returncode == 0, result.stderr
    assert "step_2_noema.json" in result.stdout
    with open(workdir / "eval" / "step_2.json") as f:
        saved_ema = json.load(f)
    with open(workdir / "eval" / "step_2_noema.json") as f:
        raw = json.load(f)
    assert (saved_ema["ema"], saved_ema["ema_skipped"]) == (True, False)
    assert (raw["ema"], raw["ema_skipped"]) == (False, True)
    assert saved_ema["rows"] == json.loads(json.dumps(with_ema["rows"]))
    ema_row, raw_row = saved_ema["rows"]["generated"], raw["rows"]["generated"]
    # Both are 2 steps from the same blob (FCD ~800, 0.03% apart): different, far above float round-off;
    # the same generator evaluated twice gives the same bits.
    assert abs(ema_row["fcd"] - raw_row["fcd"]) > 1e-5 * ema_row["fcd"], (ema_row["fcd"], raw_row["fcd"])
    assert ema_row["ms_ssim"] != raw_row["ms_ssim"]
