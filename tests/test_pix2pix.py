"""pix2pix: its losses by hand with what reaches D on each side, one generator forward per step,
the update order, G's gradient through the shared forward, a test-made folder of RGB pairs trained
and translated end to end, and the paper-size networks for 2 steps."""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan import evaluate as evaluate_lib
from jaxgan import images, losses, restore
from jaxgan import train as train_lib
from jaxgan.methods.base import apply_train
from jaxgan.metrics import fid
from jaxgan.networks.unet import UNetGenerator
from jaxgan.state import Side
from jaxgan.train_step import make_train_step

from conftest import load_config, module_calls, one_device_mesh, probe_state, resume_trainer
from test_cli import _run
from test_fid import random_state_dict

IN_WEIGHT, OUT_WEIGHT = 1.0, 3.0


class ProbeD(nn.Module):
    """A parameter-free D whose logit tells which images it was given: IN_WEIGHT * mean(first half of
    the channels: the input x) + OUT_WEIGHT * mean(second half: the target or G(x))."""

    @nn.compact
    def __call__(self, pair, *, train):
        c = pair.shape[-1] // 2
        logit = IN_WEIGHT * pair[..., :c].mean(axis=(1, 2, 3)) + OUT_WEIGHT * pair[..., c:].mean(axis=(1, 2, 3))
        return logit[:, None, None, None]


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    return resume_trainer("pix2pix", tmp_path_factory.mktemp("pix2pix"))


@pytest.mark.parametrize("adversarial_weight", [1.0, 0.0], ids=["pix2pix", "l1_baseline"])
def test_losses_by_hand_with_what_reaches_d(trainer, adversarial_weight):
    """D sees (x, y) as real and (x, G(x)) as fake, input first; loss_D = 1/2 (softplus(-r) + softplus(f)),
    loss_G = w_adv softplus(-f) + 100 |y - G(x)|."""
    method = dataclasses.replace(trainer.method, discriminator=ProbeD(), adversarial_weight=adversarial_weight)
    x, y, fake = (jnp.full((2, 4, 4, 1), v) for v in (0.1, 0.5, 0.3))
    batch, state = {"image_a": x, "image_b": y}, probe_state()
    r, f = IN_WEIGHT * 0.1 + OUT_WEIGHT * 0.5, IN_WEIGHT * 0.1 + OUT_WEIGHT * 0.3
    softplus = lambda v: np.log1p(np.exp(v))  # noqa: E731
    d_loss, (d_metrics, _) = method.discriminator_loss({}, state, batch, fake, jax.random.PRNGKey(1))
    np.testing.assert_allclose(d_loss, 0.5 * (softplus(-r) + softplus(f)), rtol=1e-6)
    np.testing.assert_allclose([d_metrics["real_logit"], d_metrics["fake_logit"]], [r, f], rtol=1e-6)
    g_loss, (g_metrics, _) = method.generator_loss(fake, state, batch, jax.random.PRNGKey(2))
    np.testing.assert_allclose(g_loss, adversarial_weight * softplus(-f) + 100 * 0.2, rtol=1e-6)
    np.testing.assert_allclose(g_metrics["l1"], 0.2, rtol=1e-6)


def test_one_generator_forward_per_step(trainer):
    assert module_calls(trainer, UNetGenerator) == 1


def _sgd_state(trainer, lr):
    """The trainer's initial state with SGD(lr) optimizer states on both sides."""
    g, d = trainer.state.generator, trainer.state.discriminator
    return trainer.state.replace(generator=g.replace(opt_state=optax.sgd(lr).init(g.params)),
                                 discriminator=d.replace(opt_state=optax.sgd(lr).init(d.params)))


def _step_once(trainer, method, lr=0.5):
    """One step of ``method`` from the trainer's initial state with SGD(lr) on both sides (compiled: XLA:CPU
    compiles one program faster than the step's hundreds of operations one by one)."""
    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}
    step = make_train_step(method, discriminator_tx=optax.sgd(lr), generator_tx=optax.sgd(lr))
    state = _sgd_state(trainer, lr)
    new_state, metrics = jax.jit(step)(state, batch)
    forward_rng = jax.random.split(jax.random.fold_in(state.rng, state.step), 3)[2]
    fake, _ = jax.jit(method.generator_forward)(state.generator.params, state, batch, forward_rng)
    return state, new_state, metrics, batch, fake


def _fake_logit(method, discriminator: Side, batch, fake):
    logits, _ = jax.jit(lambda variables, pair: apply_train(method.discriminator, variables, pair,
                                                            rng=jax.random.PRNGKey(0)))(
        discriminator.variables(), jnp.concatenate([batch["image_a"], fake], axis=-1))
    return float(logits.mean())


@pytest.mark.parametrize("order", ["discriminator_first", "generator_first"])
def test_update_order(trainer, order):
    """D then G: G's loss sees the updated D; G then D: G's loss sees the old D. Both use the
    start-of-step G(x), and D's loss sees the old D in the first order... and in the second."""
    method = dataclasses.replace(trainer.method, update_order=order)
    old, new, metrics, batch, fake = _step_once(trainer, method)
    seen_by_g = new.discriminator if order == "discriminator_first" else old.discriminator
    other = old.discriminator if order == "discriminator_first" else new.discriminator
    np.testing.assert_allclose(metrics["g/fake_logit"], _fake_logit(method, seen_by_g, batch, fake), rtol=1e-5)
    assert abs(float(metrics["g/fake_logit"]) - _fake_logit(method, other, batch, fake)) > 1e-4
    np.testing.assert_allclose(metrics["d/fake_logit"], _fake_logit(method, old.discriminator, batch, fake),
                               rtol=1e-5)


def test_generator_gradient_through_the_shared_forward(trainer):
    """With the adversarial weight 0 and SGD(lr), G's update is -lr * d(100 mean|y - G(x)|)/d theta with
    G(x) run inside the gradient: the pulled-back gradient equals the direct one."""
    lr = 0.5
    method = dataclasses.replace(trainer.method, adversarial_weight=0.0)
    old, new, _, batch, _ = _step_once(trainer, method, lr)
    forward_rng = jax.random.split(jax.random.fold_in(old.rng, old.step), 3)[2]

    def direct(params):
        fake, _ = apply_train(method.generator, old.generator.variables(params), batch["image_a"], rng=forward_rng)
        return 100.0 * losses.l1_loss(prediction=fake, target=batch["image_b"])

    expected = jax.tree.map(lambda p, g: p - lr * g, old.generator.params,
                            jax.jit(jax.grad(direct))(old.generator.params))
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6), new.generator.params, expected)
    assert not np.allclose(jax.tree.leaves(new.generator.params)[0], jax.tree.leaves(old.generator.params)[0])


def test_generated_outputs_depend_on_the_input(trainer):
    variables = trainer.state.generator_variables()
    x = jnp.asarray(trainer.pipeline.local_batch(0)["image_a"][:2])
    out = jax.jit(trainer.method.translate)(variables, x, jax.random.PRNGKey(0))
    assert out.shape == x.shape
    assert float(jnp.abs(out[0] - out[1]).mean()) > 1e-3  # Two different edge maps, two outputs.


def _write_pairs(root, n, height, width, seed=0):
    """``n`` RGB A|B files whose B is a function of A (B = 255 - A), as a translation task."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        a = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        images.write_png(str(root / f"{i:03d}.png"), np.concatenate([a, 255 - a], axis=1))


def test_folder_of_rgb_pairs_trains_and_translates(tmp_path):
    data, workdir, out = tmp_path / "pairs", tmp_path / "run", tmp_path / "out"
    _write_pairs(data / "train", 8, 32, 32)
    _write_pairs(data / "test", 3, 32, 32, seed=1)
    result = _run("jaxgan.main", "--config", "configs/pix2pix_mnist_edges.py", "--workdir", str(workdir),
                  f"--config.data.source=paired:{data}", "--config.data.load_size=0", "--config.data.crop_size=0",
                  "--config.model.generator.features=2", "--config.model.discriminator.features=2",
                  "--config.model.discriminator.n_layers=1", "--config.train.steps=2",
                  "--config.train.batch_size=4", "--config.train.sample_every=2", "--config.train.checkpoint_every=2",
                  "--config.sample.examples=3")
    assert result.returncode == 0, result.stderr
    panel = images.read_png(str(workdir / "samples" / "step_0000002.png"))
    assert panel.shape == (3 * 34 + 2, 3 * 34 + 2, 3)  # 3 held-out rows of input | output | target.
    result = _run("jaxgan.translate", "--workdir", str(workdir), "--input", str(data / "test"),
                  "--output", str(out), "--pairs")
    assert result.returncode == 0, result.stderr
    strips = sorted(p.name for p in out.iterdir())
    assert strips == ["000.png", "001.png", "002.png"]
    strip = images.read_png(str(out / "001.png"))
    assert strip.shape == (36, 3 * 34 + 2, 3)
    a = images.read_png(str(data / "test" / "001.png"))[:, :32]
    np.testing.assert_array_equal(strip[2:34, 2:34], a)  # The input column is the file's left half.
    np.testing.assert_array_equal(strip[2:34, 70:102], 255 - a)  # The target column its right half.

    result = evaluate_lib.evaluate(str(workdir), num_samples=3, batch_size=3)
    assert result["family"] == "image_to_image" and result["num_samples"] == 3
    inputs = np.stack([images.read_png(str(data / "test" / f"{i:03d}.png")) for i in range(3)]) / 127.5 - 1
    x, y = inputs[:, :, :32], inputs[:, :, 32:]
    identity = result["rows"]["input_resized"]  # The input as its own translation: known answers.
    np.testing.assert_allclose(identity["l1"], np.abs(x - y).mean(), rtol=1e-5)
    np.testing.assert_allclose(identity["psnr"], (10 * np.log10(1 / (((x - y) / 2) ** 2).mean((1, 2, 3)))).mean(),
                               rtol=1e-4)
    assert set(result["rows"]["translated"]) == {"psnr", "ssim", "l1", "l2"}  # No digit labels: no accuracy.

    # FID and KID against the real targets, in the FID Inception network's features (random weights here).
    weights = tmp_path / "fid_inception.npz"
    np.savez(weights, **random_state_dict())
    result = evaluate_lib.evaluate(str(workdir), num_samples=3, batch_size=3, inception_weights=str(weights))
    features = fid.features_fn(fid.load_fid_inception(str(weights)), batch_size=3)
    expected = fid.fid_and_kid(features(x.astype(np.float32)), features(y.astype(np.float32)))
    for key in ("fid", "kid", "kid_std"):
        np.testing.assert_allclose(result["rows"]["input_resized"][key], expected[key], rtol=1e-3, atol=1e-9)
    assert expected["fid"] > 1 and expected["kid"] > 1e-3, expected  # Far from 0: the comparison can fail.
    assert result["rows"]["translated"]["fid"] > 0 and "FID and KID against the real targets" in (
        evaluate_lib.format_table(result))
    train = np.stack([images.read_png(str(data / "train" / f"{i:03d}.png")) for i in range(8)]) / 127.5 - 1
    reference = evaluate_lib._held_out_pairs(restore.restore_run(str(workdir)), 3, 3, 0, split="train")["image_b"]
    assert any(np.allclose(reference[0], t[:, 32:], atol=1e-6) for t in train)  # Real training targets.
    np.testing.assert_allclose(result["fid_real_train"], fid.fid_and_kid(
        features(reference.astype(np.float32)), features(y.astype(np.float32)))["fid"], rtol=1e-3)

    result = _run("jaxgan.sample", "--workdir", str(workdir), "--num", "2", "--out", str(tmp_path / "panel.png"))
    assert result.returncode == 0, result.stderr
    assert images.read_png(str(tmp_path / "panel.png")).shape == (2 * 34 + 2, 3 * 34 + 2, 3)


def test_translate_refuses_a_label_conditional_run(tmp_path):
    from jaxgan import translate
    from jaxgan.errors import ConfigError

    workdir = str(tmp_path / "cgan")
    resume_trainer("cgan_dcgan", workdir).run()
    (tmp_path / "in").mkdir()
    with pytest.raises(ConfigError, match="does not translate images"):
        translate.translate_folder(workdir, str(tmp_path / "in"), str(tmp_path / "out"))


def test_paper_size_networks_two_steps(tmp_path):
    """configs/pix2pix_facades.py as the paper runs it: unet_256 + 70x70 PatchGAN, load 286, crop 256,
    flip, batch 1: builds and makes 2 finite steps."""
    _write_pairs(tmp_path / "facades" / "train", 2, 256, 256)
    config = load_config("pix2pix_facades")
    config.data.source = f"paired:{tmp_path / 'facades'}"
    config.train.steps = 2
    for side in ("generator", "discriminator"):
        config.optimizer[side].decay_start = 1  # The paper's 100 + 100 epochs, shrunk to 1 + 1 steps.
    trainer = train_lib.Trainer(config, str(tmp_path / "run"), mesh=one_device_mesh())
    assert trainer.data.shape("image_a") == (256, 256, 3)
    n_params = sum(p.size for p in jax.tree.leaves(trainer.state.generator.params))
    assert n_params == 54_413_955  # unet_256, ngf 64, batch norm: counted from the layer shapes (the authors' code prints 54.414 M).
    metrics = jax.device_get(trainer.train_steps(2))
    assert trainer.step == 2 and all(np.isfinite(v) for v in metrics.values())
