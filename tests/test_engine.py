"""The engine's image-to-image generalisation: the batch description saved with runs, the method
state a loss updates (through the step, the non-finite guard and the n_critic schedule), and the
constant-then-linear learning-rate schedule."""

import dataclasses
import os
import types

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from jaxgan import optim
from jaxgan.config import optimizer_config
from jaxgan.errors import ConfigError
from jaxgan.methods.base import ArraySpec, DataInfo, apply_train, split_variables
from jaxgan.state import GANState, Side
from jaxgan.train_step import make_train_step


def test_data_info_describes_the_batch_and_round_trips():
    batch = {"image_a": np.zeros((2, 8, 8, 3), np.float32), "label_map": np.zeros((2, 8, 8), np.int32),
             "mask": np.zeros((2, 8, 8, 1), np.float32)}

    class Source:
        num_classes, attribute_names, num_label_classes = None, ("thick",), 11

    info = DataInfo.from_batch(batch, Source())
    assert info.batch == {"image_a": ArraySpec((8, 8, 3), "float32"), "label_map": ArraySpec((8, 8), "int32"),
                          "mask": ArraySpec((8, 8, 1), "float32")}
    assert (info.attribute_names, info.num_label_classes) == (("thick",), 11)
    assert DataInfo.from_json(info.to_json()) == info
    example = info.example(3)
    assert {k: (v.shape, v.dtype) for k, v in example.items()} == {
        "image_a": ((3, 8, 8, 3), np.float32), "label_map": ((3, 8, 8), np.int32), "mask": ((3, 8, 8, 1), np.float32)}
    with pytest.raises(ConfigError, match=r"needs the batch key 'image_b'; the data gives \['image_a', 'label_map'"):
        info.shape("image_b")
    with pytest.raises(ConfigError, match="needs batches of \\(image, label\\)"):
        info.image_shape


def test_runs_saved_before_batches_were_described_restore_as_labelled():
    info = DataInfo.from_json({"image_shape": [28, 28, 1], "num_classes": 10, "skipped_images": 0})
    assert info == DataInfo.labelled((28, 28, 1), 10)
    assert info.batch["label"] == ArraySpec((), "int32") and info.image_shape == (28, 28, 1)


def _schedule(**overrides):
    return optim.learning_rate_schedule(ml_collections.ConfigDict(optimizer_config(**overrides)), 6)


def test_constant_then_linear_decay_by_hand():
    """lr for the first S updates, then lr (1 - (t - S) / (T - S)) down to 0 at T (junyanz's n_epochs +
    n_epochs_decay); S = 0 is the plain linear decay."""
    lr = _schedule(learning_rate=1.0, linear_decay=True, decay_start=2)
    np.testing.assert_allclose([lr(t) for t in range(7)], [1, 1, 1, 0.75, 0.5, 0.25, 0], atol=1e-7)
    lr = _schedule(learning_rate=1.0, linear_decay=True)
    np.testing.assert_allclose([lr(t) for t in range(7)], [1, 5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6, 0], atol=1e-7)


def test_decay_start_errors_name_the_fix():
    with pytest.raises(ConfigError, match="decay_start=6 is not before the side's last update \\(6\\)"):
        _schedule(linear_decay=True, decay_start=6)
    with pytest.raises(ConfigError, match="decay_start=2 needs linear_decay=True"):
        _schedule(decay_start=2)


class Scale(nn.Module):
    @nn.compact
    def __call__(self, x, *, train):
        return x * self.param("w", nn.initializers.ones, ())


@dataclasses.dataclass(frozen=True)
class CountingMethod:
    """A shared-forward method whose D loss counts its calls in the method state and records the
    mean of the generated images it saw; ``poison`` makes D's loss NaN when the count reaches it."""

    generator: nn.Module = Scale()
    discriminator: nn.Module = Scale()
    update_order: str = "generator_first"
    poison: int = -1

    def init(self, rng, batch):
        x = batch["image_a"]
        return (dict(self.generator.init(rng, x, train=False)), dict(self.discriminator.init(rng, x, train=False)),
                {"count": jnp.zeros((), jnp.int32), "seen": jnp.zeros((), jnp.float32)})

    def generator_forward(self, params, state, batch, rng):
        return apply_train(self.generator, state.generator.variables(params), batch["image_a"], rng=rng)

    def discriminator_loss(self, params, state, batch, generated, rng):
        out, collections = apply_train(self.discriminator, state.discriminator.variables(params), generated, rng=rng)
        count = state.method_state["count"] + 1
        loss = jnp.mean(out ** 2) + jnp.where(count == self.poison, jnp.nan, 0.0)
        return loss, ({}, collections, {"count": count, "seen": generated.mean()})

    def generator_loss(self, generated, state, batch, rng):
        return jnp.mean((generated - 3.0) ** 2), ({}, {})


def _state(method, batch):
    g, d, method_state = method.init(jax.random.PRNGKey(0), batch)
    (g_params, g_coll), (d_params, d_coll) = split_variables(g), split_variables(d)
    tx = optax.sgd(0.1)
    return GANState(step=jnp.zeros((), jnp.int32), rng=jax.random.PRNGKey(1),
                    generator=Side(g_params, g_coll, tx.init(g_params)),
                    discriminator=Side(d_params, d_coll, tx.init(d_params)),
                    ema_params=None, method_state=method_state, nonfinite_steps=jnp.zeros((), jnp.int32)), tx


def test_method_state_written_by_a_loss_flows_through_the_step():
    batch = {"image_a": jnp.full((2, 3), 2.0)}
    method = CountingMethod()
    state, tx = _state(method, batch)
    step = jax.jit(make_train_step(method, discriminator_tx=tx, generator_tx=tx), static_argnums=2)
    state, _ = step(state, batch, True)
    # G first: G updated w = 1 - 0.1 * d/dw mean((2w - 3)^2) = 1 + 0.4 = 1.4, but D saw the start-of-step
    # G(x) = 2.0 (the generated images are the step's one forward).
    assert int(state.method_state["count"]) == 1 and float(state.method_state["seen"]) == pytest.approx(2.0)
    assert float(state.generator.params["w"]) == pytest.approx(1.4)
    state, _ = step(state, batch, False)  # A D-only step (n_critic): D's loss still updates the state.
    assert int(state.method_state["count"]) == 2 and float(state.method_state["seen"]) == pytest.approx(2.8)


def test_a_skipped_nonfinite_update_drops_the_method_state_it_wrote():
    batch = {"image_a": jnp.full((2, 3), 2.0)}
    method = CountingMethod(poison=2)
    state, tx = _state(method, batch)
    step = jax.jit(make_train_step(method, discriminator_tx=tx, generator_tx=tx, skip_nonfinite=True))
    state, _ = step(state, batch)
    state, metrics = step(state, batch)  # D's loss is NaN at its second call: its update is dropped.
    assert float(metrics["d/nonfinite"]) == 1.0 and int(state.nonfinite_steps) == 1
    assert int(state.method_state["count"]) == 1  # Not 2: the count the bad update wrote was rolled back.


@pytest.mark.parametrize("loss, bad, nonfinite", [
    (1.0, None, 0.0), (jnp.nan, None, 1.0), (1.0, jnp.inf, 1.0), (1.0, -jnp.inf, 1.0), (1.0, jnp.nan, 1.0),
    (1.0, 1e20, 1.0),  # Finite, but its square passes float32's range: counted as non-finite (documented).
    (1.0, 1e18, 0.0)])
def test_an_update_is_nonfinite_when_its_loss_or_any_gradient_element_is(loss, bad, nonfinite):
    from jaxgan.train_step import _apply

    params = {"a": jnp.ones((3,)), "b": jnp.ones((2, 2))}
    grads = {"a": jnp.array([0.5, -1.0, 2.0]), "b": jnp.full((2, 2), 0.25)}
    if bad is not None:
        grads["b"] = grads["b"].at[1, 0].set(bad)
    tx = optax.sgd(0.1)
    _, metrics = jax.jit(_apply, static_argnums=1)(Side(params, {}, tx.init(params)), tx, jnp.float32(loss), grads,
                                                   {}, {})
    assert float(metrics["nonfinite"]) == nonfinite


def test_evaluating_an_inpainting_run_scores_the_hole(tmp_path):
    """jaxgan.evaluate on a Context Encoders run: translations use the hole's mask, and the
    ``input_resized`` row (the input with its hole filled with 128) has the hole metrics computed by
    hand from the same held-out pairs."""
    from jaxgan import evaluate as evaluate_lib
    from jaxgan import restore

    from conftest import resume_trainer

    resume_trainer("context_encoder", tmp_path).run()
    result = evaluate_lib.evaluate(str(tmp_path), num_samples=8, batch_size=8)
    pairs = evaluate_lib._held_out_pairs(restore.restore_run(str(tmp_path)), 8, 8, 0)
    hole = pairs["mask"][..., 0] > 0
    x, y = (pairs[k][..., 0][hole] / 2 + 0.5 for k in ("image_a", "image_b"))  # [0, 1], hole pixels only.
    np.testing.assert_allclose(x, 128 / 255, rtol=1e-6)
    row = result["rows"]["input_resized"]
    np.testing.assert_allclose(row["hole_l1"], np.abs(x - y).mean(), rtol=1e-5)
    np.testing.assert_allclose(row["hole_l2"], np.square(x - y).mean(), rtol=1e-5)
    translated = result["rows"]["translated"]
    assert {"hole_l1", "hole_l2", "hole_psnr", "accuracy", "fcd"} <= set(translated)
    assert "over the hole" in evaluate_lib.format_table(result)


def test_evaluating_a_super_resolution_run_adds_y_channel_metrics(tmp_path):
    """An SR run's rows get PSNR/SSIM on the Y channel with the border cropped; for the bicubic row
    the value is recomputed by hand from the same held-out pairs."""
    from jaxgan import evaluate as evaluate_lib
    from jaxgan import restore

    from conftest import resume_trainer

    resume_trainer("srgan", tmp_path).run()
    result = evaluate_lib.evaluate(str(tmp_path), num_samples=8, batch_size=8)
    pairs = evaluate_lib._held_out_pairs(restore.restore_run(str(tmp_path)), 8, 8, 0)
    x, y = pairs["image_a"], pairs["image_b"]
    bicubic = np.asarray(jax.image.resize(x, y.shape, "bicubic")).clip(-1, 1)
    # Grey images: Y = 16/255 + (65.481 + 128.553 + 24.966)/255 * v on [0, 1], v the grey value.
    to_y = lambda v: 16 / 255 + 219 / 255 * (v[:, 4:-4, 4:-4, 0] / 2 + 0.5)  # noqa: E731
    mse = np.square(to_y(bicubic) - to_y(y)).mean(axis=(1, 2))
    np.testing.assert_allclose(result["rows"]["input_resized"]["psnr_y"], np.mean(10 * np.log10(1 / mse)), rtol=1e-4)
    assert {"psnr_y", "ssim_y"} <= set(result["rows"]["translated"])
    assert "on Y, cropped" in evaluate_lib.format_table(result)


def pixel_features(images: np.ndarray) -> np.ndarray:
    """Stand-in FID features: the first pixels and the channel means of each image."""
    images = np.asarray(images, np.float64)
    return np.concatenate([images.reshape(len(images), -1)[:, :5], images.mean(axis=(1, 2))], axis=1)


def test_evaluating_an_unpaired_run_scores_each_direction(tmp_path, monkeypatch):
    """jaxgan.evaluate on a CycleGAN run: both directions scored with classifiers trained on the run's
    domains (a few steps here), cached for the next evaluation; the cycle error is recomputed by hand."""
    import functools

    from jaxgan import evaluate as evaluate_lib
    from jaxgan import restore
    from jaxgan.metrics import domains, fid

    from conftest import resume_trainer

    resume_trainer("cyclegan", tmp_path).run()
    trained = []
    original = domains.train_classifier.train
    monkeypatch.setattr(domains.train_classifier, "train", lambda *a, **k: trained.append(1) or original(*a, **k))
    monkeypatch.setattr(domains, "domain_classifiers", functools.partial(
        domains.domain_classifiers, steps=2, batch_size=16, train_size=64, test_size=32))
    result = evaluate_lib.evaluate(str(tmp_path), num_samples=16, batch_size=16)
    assert result["family"] == "unpaired" and set(result["directions"]) == {"AtoB", "BtoA"}
    run = restore.restore_run(str(tmp_path))
    a = evaluate_lib._held_out_pairs(run, 16, 16, 0)["image_a"]
    variables = run.state.generator_variables()
    key = jax.random.PRNGKey(0)
    translate = jax.jit(run.method.translate, static_argnums=3)  # One program, not op by op (XLA:CPU).
    cycled = translate(variables, translate(variables, a, key, "AtoB"), key, "BtoA")
    np.testing.assert_allclose(result["directions"]["AtoB"]["cycle_error"], np.abs(np.asarray(cycled) - a).mean(),
                               rtol=1e-4)
    assert "AtoB" in evaluate_lib.format_table(result)
    count = len(trained)
    assert count == 3  # A label classifier per domain and the domain classifier.
    # Again with FID and KID, in stand-in features (the FID Inception network: tests/test_fid.py, test_pix2pix.py).
    monkeypatch.setattr(evaluate_lib.fid, "scorer", lambda path, batch_size: pixel_features)
    result = evaluate_lib.evaluate(str(tmp_path), num_samples=16, batch_size=16, inception_weights="any.npz")
    assert len(trained) == count  # Read from WORKDIR/eval/classifiers, not trained again.
    b = evaluate_lib._held_out_pairs(run, 16, 16, 0)["image_b"]
    translated = np.asarray(translate(variables, a, key, "AtoB"))
    expected = fid.fid_and_kid(pixel_features(translated), pixel_features(b))  # Against B's real test images.
    for k in ("fid", "kid"):
        np.testing.assert_allclose(result["directions"]["AtoB"][k], expected[k], rtol=1e-4)
    assert result["directions"]["BtoA"]["real_target"]["fid_train_vs_test"] > 0
    assert "FID and KID against Y's real test images" in evaluate_lib.format_table(result)


def test_evaluating_a_cogan_run_reports_pair_and_label_agreement(tmp_path, monkeypatch):
    """jaxgan.evaluate on a CoGAN run (digits | their negatives, both labelled): the pixel agreement of its
    generated pairs recomputed by hand (binarised at mid-grey, the second must be the first's negative), and
    the label agreement recomputed from its domains' label classifiers, on the generated pairs and on held-out
    real pairs (x, 255 - x), and the FCD of its second images in their classifier's features. Without a pair
    relation, the label agreement alone."""
    import functools

    from jaxgan import evaluate as evaluate_lib
    from jaxgan import images, metrics, restore
    from jaxgan.metrics import domains, fid

    from conftest import resume_trainer

    resume_trainer("cogan", tmp_path).run()
    monkeypatch.setattr(domains, "domain_classifiers", functools.partial(
        domains.domain_classifiers, steps=60, batch_size=32, train_size=512, test_size=64))  # ~94% accurate.
    result = evaluate_lib.evaluate(str(tmp_path), num_samples=20, batch_size=10)
    run = restore.restore_run(str(tmp_path))
    key = jax.random.PRNGKey(0)
    pairs = [run.method.generate(run.state.generator_variables(), run.method.sample_noise(jax.random.fold_in(key, s), 10))
             for s in (0, 10)]
    first, second = (np.concatenate([np.asarray(p[i]) for p in pairs]) for i in (0, 1))
    u, v = (images.to_uint8(x)[..., 0].astype(int) for x in (first, second))
    expected = np.mean((255 - u > 127) == (v > 127))
    assert result["family"] == "coupled" and result["pair_relation"] == "negative"
    np.testing.assert_allclose(result["pair_agreement"], expected, atol=1e-6)
    assert set(result["real_baselines"]) == {"unrelated", "constant", "same_class"}  # The domains have labels.

    classifiers = domains.domain_classifiers(run.config.data.source, str(tmp_path / "eval" / "classifiers"))

    def read(letter, x):
        return np.argmax(np.asarray(classifiers.label[letter](domains.classifier_input(x))[0]), axis=1)

    label = result["label_agreement"]
    assert label["agreement"] == pytest.approx(np.mean(read("a", first) == read("b", second)))
    assert sum(label["counts_a"]) == sum(label["counts_b"]) == 20 and len(label["counts_a"]) == 10
    real = evaluate_lib._held_out_pairs(run, 20, 10, 0)["image_a"]
    assert label["real_pairs"] == pytest.approx(np.mean(read("a", real) == read("b", -real)))
    assert label["real_pairs"] > 0.7  # Real pairs (x, 255 - x) read alike: B's classifier saw the negatives.
    assert label["classifier_test_accuracy"] == {k: classifiers.test_accuracy[f"label_{k}"] for k in "ab"}
    features = np.asarray(classifiers.label["b"](domains.classifier_input(second))[1])
    real_b = evaluate_lib._held_out_pairs(run, 20, 10, 0)["image_b"]
    real_features = np.asarray(classifiers.label["b"](domains.classifier_input(real_b))[1])
    assert result["fcd"]["b"]["generated"] == pytest.approx(
        metrics.frechet_classifier_distance(features, real_features), rel=1e-3)
    table = evaluate_lib.format_table(result)
    assert "pixel agreement (negative)" in table and "label agreement" in table

    unrelated = run._replace(method=dataclasses.replace(run.method, pair_relation=""))
    labels_only = evaluate_lib.coupled_result(unrelated, str(tmp_path), num_samples=20, batch_size=10, seed=0,
                                              use_ema=True)
    assert "pair_agreement" not in labels_only and "real_pairs" not in labels_only["label_agreement"]
    assert labels_only["label_agreement"]["agreement"] == label["agreement"]
    # Each domain's FID and KID against its held-out real images (stand-in features).
    monkeypatch.setattr(evaluate_lib.fid, "scorer", lambda path, batch_size: pixel_features)
    with_fid = evaluate_lib.evaluate(str(tmp_path), num_samples=20, batch_size=10, inception_weights="any.npz")
    expected = fid.fid_and_kid(pixel_features(second), pixel_features(real_b))
    assert with_fid["fid"]["b"]["fid"] == pytest.approx(expected["fid"], rel=1e-4)
    assert with_fid["fid"]["b"]["kid"] == pytest.approx(expected["kid"], rel=1e-4)
    assert with_fid["fid"]["a"]["real_train"] > 0 and "FID and KID" in evaluate_lib.format_table(with_fid)


def test_evaluating_a_one_way_run(tmp_path, monkeypatch):
    """jaxgan.evaluate on a DTN run (it translates source -> target only): one direction, A -> B, with no
    cycle error; its domain fidelity is the domain classifier's reading of the method's own translations."""
    import functools

    from jaxgan import evaluate as evaluate_lib
    from jaxgan import restore
    from jaxgan.metrics import domains

    from conftest import resume_trainer

    resume_trainer("dtn", tmp_path).run()
    monkeypatch.setattr(domains, "domain_classifiers", functools.partial(
        domains.domain_classifiers, steps=2, batch_size=16, train_size=64, test_size=32))
    result = evaluate_lib.evaluate(str(tmp_path), num_samples=16, batch_size=16)
    assert result["family"] == "unpaired" and list(result["directions"]) == ["AtoB"]
    row = result["directions"]["AtoB"]
    assert row["cycle_error"] is None
    run = restore.restore_run(str(tmp_path))
    a = evaluate_lib._held_out_pairs(run, 16, 16, 0)["image_a"]
    translated = np.asarray(run.method.translate(run.state.generator_variables(), a, jax.random.PRNGKey(0)))
    classifiers = domains.domain_classifiers(run.config.data.source, str(tmp_path / "eval" / "classifiers"))
    logits, _ = domains.map_in_batches(lambda x: classifiers.domain(domains.classifier_input(x)), translated, 16)
    assert row["domain_fidelity"] == pytest.approx(np.mean(np.argmax(logits[:, :2], axis=1) == 1))
    translated_row = next(line for line in evaluate_lib.format_table(result).splitlines() if line.startswith("AtoB"))
    assert translated_row.split()[4] == "-"  # No cycle L1.


def test_evaluating_a_label_map_run(tmp_path, monkeypatch):
    """jaxgan.evaluate on a pix2pixHD run translates the held-out label maps (and instance maps) to
    images: the translated row equals the method's translation of the same maps. (The FCN-score's
    segmenter trains for 5 steps here: tests/test_segmentation.py checks its figures.)"""
    import dataclasses

    from jaxgan import evaluate as evaluate_lib
    from jaxgan import restore
    from jaxgan.metrics import segmentation, translation

    monkeypatch.setattr(segmentation, "DEFAULT_SETTINGS",
                        dataclasses.replace(segmentation.DEFAULT_SETTINGS, steps=5, train_size=16))

    from conftest import resume_trainer

    resume_trainer("pix2pixhd", tmp_path).run()
    result = evaluate_lib.evaluate(str(tmp_path), num_samples=4, batch_size=4)
    assert set(result["rows"]) == {"translated"}  # No image input, so no bicubic row.
    run = restore.restore_run(str(tmp_path))
    pairs = evaluate_lib._held_out_pairs(run, 4, 4, 0)
    out = jax.jit(run.method.translate)(run.state.generator_variables(), pairs["label_map"], jax.random.PRNGKey(0),
                                        instance_map=pairs["instance_map"])
    expected = translation.pixel_metrics(np.asarray(out), pairs["image_b"])
    np.testing.assert_allclose(result["rows"]["translated"]["l1"], expected["l1"], rtol=1e-5)


def test_a_schedule_started_later_reads_its_position():
    """pix2pixHD's global generator joins at update n with the run's learning rate: its optimizer's
    schedules start at position n (optim.at_schedule_position sets the count the schedule reads)."""
    from jaxgan.methods.pix2pixhd import _start_schedules_at

    config = ml_collections.ConfigDict(optimizer_config(learning_rate=1.0, linear_decay=True))
    tx = _start_schedules_at(optim.build(config, 10), 5)
    params = {"w": jnp.ones(())}
    _, state = tx.update({"w": jnp.ones(())}, tx.init(params), params)
    assert float(state.hyperparams["learning_rate"]) == pytest.approx(0.5)  # lr (1 - 5/10), not lr at 0.


def test_evaluating_a_one_attribute_run_as_two_domains(tmp_path, monkeypatch):
    """jaxgan.evaluate --as_domains on a StarGAN run of one attribute (grey thin upright / thick slanted
    digits): A -> B is G(x, c = 1), B -> A is G(x, c = 0), scored as a two-domain run on the domains'
    held-out images (domain fidelity and cycle error recomputed by hand); a run or a source it cannot score
    that way is a clear error."""
    import functools

    from jaxgan import evaluate as evaluate_lib
    from jaxgan import restore, train
    from jaxgan.errors import ConfigError
    from jaxgan.metrics import domains

    from conftest import tiny_stargan

    spec = "domains:builtin:mnist/plain|builtin:mnist/thick_slanted"
    config = tiny_stargan(steps=2)
    config.data.source = "builtin:mnist/attribute_thick_slanted"
    train.Trainer(config, str(tmp_path)).run()
    monkeypatch.setattr(domains, "domain_classifiers", functools.partial(
        domains.domain_classifiers, steps=2, batch_size=16, train_size=64, test_size=32))
    result = evaluate_lib.evaluate(str(tmp_path), num_samples=16, batch_size=16, as_domains=spec)
    assert result["family"] == "unpaired" and list(result["directions"]) == ["AtoB", "BtoA"]
    assert (result["as_domains"], result["attribute"]) == (spec, "thick_slanted")
    assert os.path.isfile(tmp_path / "eval" / "step_2_as_domains.json")
    run = restore.restore_run(str(tmp_path))
    held_out = evaluate_lib._held_out_pairs(run, 16, 16, 0, spec=spec)
    a, b = held_out["image_a"], held_out["image_b"]
    assert a.shape == (16, 16, 16, 1)
    translate = jax.jit(lambda x, on: run.method.translate(run.state.generator_variables(), x, jax.random.PRNGKey(0),
                                                           target=jnp.full((len(x), 1), on), dataset=0))
    classifiers = domains.domain_classifiers(spec, str(tmp_path / "eval" / "classifiers"))
    for name, x, on in (("AtoB", a, 1.0), ("BtoA", b, 0.0)):
        y = translate(x, on)
        np.testing.assert_allclose(result["directions"][name]["cycle_error"],
                                   np.abs(np.asarray(translate(y, 1.0 - on)) - x).mean(), rtol=1e-4)
        logits, _ = domains.map_in_batches(lambda z: classifiers.domain(domains.classifier_input(z)), np.asarray(y), 16)
        assert result["directions"][name]["domain_fidelity"] == pytest.approx(
            np.mean(np.argmax(logits[:, :2], axis=1) == int(on)))
    assert "attribute 'thick_slanted' as the domains of" in evaluate_lib.format_table(result)
    with pytest.raises(ConfigError, match="two domains, domains:SPEC_A"):
        evaluate_lib.evaluate(str(tmp_path), as_domains="builtin:mnist/thick_slanted")
    with pytest.raises(ConfigError, match=r"images of 3 channel\(s\); the run's have 1"):
        evaluate_lib.evaluate(str(tmp_path), as_domains="domains:builtin:mnist/plain_rgb|builtin:mnist/coloured")
    untranslatable = types.SimpleNamespace(method=object(), config=run.config, data=run.data)
    with pytest.raises(ConfigError, match="of one attribute as a two-domain translator; this run .* has no attributes"):
        evaluate_lib.as_domains_result(untranslatable, str(tmp_path), spec, num_samples=4, batch_size=4, seed=0,
                                       use_ema=True)
