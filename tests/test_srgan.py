"""SRGAN / SRResNet: losses by hand with what reaches D, the SRResNet phase, a feature content loss on a
stand-in phi, PSNR/SSIM on the Y channel with the border crop, LR made from HR crops, one generator forward
per step, the generator's dependence on its input, real steps, and the paper-size networks for 2 steps."""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import images, perceptual
from jaxgan import train as train_lib
from jaxgan.data.pipeline import Pipeline
from jaxgan.data.folder import ImagesSource
from jaxgan.data.transforms import ResizeAndCrop, _resize
from jaxgan.errors import ConfigError
from jaxgan.metrics import translation
from jaxgan.networks.srresnet import SRResNetGenerator, depth_to_space

from conftest import load_config, module_calls, one_device_mesh, probe_state, resume_trainer, tiny_srgan

D_WEIGHT = 3.0
softplus = lambda v: np.log1p(np.exp(v))  # noqa: E731


class ProbeD(nn.Module):
    """A parameter-free D whose logit is D_WEIGHT * mean(image): tells which image it was given."""

    @nn.compact
    def __call__(self, x, *, train):
        return D_WEIGHT * x.mean(axis=(1, 2, 3))[:, None]


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    return resume_trainer("srgan", tmp_path_factory.mktemp("srgan"))


def _probe_batch():
    x, y, fake = jnp.full((2, 2, 2, 1), 0.1), jnp.full((2, 8, 8, 1), 0.5), jnp.full((2, 8, 8, 1), 0.3)
    return {"image_a": x, "image_b": y}, fake


@pytest.mark.parametrize("step, in_srresnet_phase", [(0, True), (1, False), (5, False)])
def test_losses_by_hand_with_what_reaches_d(trainer, step, in_srresnet_phase):
    """D sees I_HR as real and G(I_LR) as fake: loss_D = softplus(-r) + softplus(f) (not halved);
    loss_G = mean (I_HR - G)^2 + 1e-3 softplus(-f) from step pretrain_steps = 1 on, the MSE alone before."""
    method = dataclasses.replace(trainer.method, discriminator=ProbeD())
    assert method.pretrain_steps == 1 and method.adversarial_weight == 1e-3
    batch, fake = _probe_batch()
    r, f = D_WEIGHT * 0.5, D_WEIGHT * 0.3
    d_loss, (d_metrics, _) = method.discriminator_loss({}, probe_state(step), batch, fake, jax.random.PRNGKey(1))
    np.testing.assert_allclose(d_loss, softplus(-r) + softplus(f), rtol=1e-6)
    np.testing.assert_allclose([d_metrics["real_logit"], d_metrics["fake_logit"]], [r, f], rtol=1e-6)
    g_loss, (g_metrics, _) = method.generator_loss(fake, probe_state(step), batch, jax.random.PRNGKey(2))
    mse = 0.2 ** 2
    np.testing.assert_allclose(g_loss, mse if in_srresnet_phase else mse + 1e-3 * softplus(-f), rtol=1e-6)
    np.testing.assert_allclose([g_metrics["mse"], g_metrics["phase"]], [mse, 0.0 if in_srresnet_phase else 1.0],
                               rtol=1e-6)


def test_feature_content_loss_on_a_stand_in_phi(trainer):
    """l_X = mean((s (phi(G) - phi(I_HR)))^2) with phi(x) = w * mean(x) (w read from the method state),
    s = 0.5; phi(I_HR) held fixed (the gradient w.r.t. G(x) is that of the prediction side only)."""
    phi = lambda v, x: (v["w"] * x.mean(axis=(1, 2, 3))[:, None],)  # noqa: E731
    content = perceptual.ContentNetwork("stand_in", phi, {"w": np.float32(4.0)}, rescale=0.5)
    method = dataclasses.replace(trainer.method, discriminator=ProbeD(), content=content, pretrain_steps=0)
    batch, fake = _probe_batch()
    state = probe_state(0, {"content_network": {"w": jnp.float32(4.0)}})
    loss, (metrics, _) = method.generator_loss(fake, state, batch, jax.random.PRNGKey(0))
    content_value = (0.5 * 4.0 * (0.3 - 0.5)) ** 2
    np.testing.assert_allclose(metrics["content"], content_value, rtol=1e-5)
    np.testing.assert_allclose(loss, content_value + 1e-3 * softplus(-D_WEIGHT * 0.3), rtol=1e-5)
    grad = jax.grad(lambda g: method.content_loss(state, g, batch["image_b"]))(fake)
    np.testing.assert_allclose(grad, 2 * 0.25 * 16 * (0.3 - 0.5) / fake[0].size / 2, rtol=1e-5)


def test_psnr_and_ssim_on_y_with_the_border_crop():
    """An offset of d in [0, 1] RGB on every channel moves Y by d * 219 / 255: PSNR-Y = -20 log10 of that.
    A difference confined to the 4-pixel border is invisible after the crop (PSNR inf, SSIM 1)."""
    rng = np.random.default_rng(0)
    target = rng.uniform(-0.8, 0.8, (2, 16, 16, 3)).astype(np.float32)
    d = 0.05
    np.testing.assert_allclose(translation.psnr_y(target + 2 * d, target, 4), -20 * np.log10(d * 219 / 255),
                               rtol=1e-4)
    y = translation.y_channel(np.array([[[[1.0, -1.0, -1.0]]], [[[-1.0, -1.0, -1.0]]]], np.float32))
    np.testing.assert_allclose(y.ravel(), [(16 + 65.481) / 255, 16 / 255], rtol=1e-6)  # Pure red; black.
    border = target.copy()
    border[:, :4] += 0.5
    border[:, :, -4:] -= 0.5
    assert np.all(np.isinf(translation.psnr_y(border, target, 4)))
    np.testing.assert_allclose(translation.ssim_y(border, target, 4), 1.0, rtol=1e-6)
    assert np.all(translation.psnr_y(border, target, 3) < 40)
    assert translation.ssim_y(border, target, 0).max() < 0.99
    metrics = translation.super_resolution_metrics(target + 2 * d, target, 4)
    assert metrics["psnr_y"] == pytest.approx(-20 * np.log10(d * 219 / 255), rel=1e-4)
    with pytest.raises(ValueError, match="leaves nothing"):
        translation.crop_border(target, 8)


def test_depth_to_space_order():
    x = jnp.arange(2 * 2 * 4 * 2, dtype=jnp.float32).reshape(1, 2, 2, 8)  # 4 sub-pixels x 2 channels.
    y = depth_to_space(x, 2)
    assert y.shape == (1, 4, 4, 2)
    for i in range(2):
        for j in range(2):
            np.testing.assert_array_equal(y[0, 2 + i, 0 + j], x[0, 1, 0, (i * 2 + j) * 2:(i * 2 + j) * 2 + 2])


def test_low_res_made_from_high_res_crops(tmp_path):
    """data.downscale=4: image_b is the 16x16 crop, image_a its bicubic 4x4 downsample (Pillow)."""
    root = tmp_path / "hr"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        images.write_png(str(root / f"{i}.png"), rng.integers(0, 256, (24, 24, 3), dtype=np.uint8))
    transform = ResizeAndCrop(crop_size=16, downscale=4)
    batch = Pipeline(ImagesSource.open(str(root), "train"), global_batch_size=2, seed=0,
                     transform=transform).local_batch(0)
    assert sorted(batch) == ["image_a", "image_b"] and batch["image_a"].shape == (2, 4, 4, 3)
    hr = np.round((batch["image_b"] + 1) * 127.5).astype(np.uint8)
    expected = np.stack([_resize(h, (4, 4), "bicubic") for h in hr]).astype(np.float32) / 127.5 - 1
    np.testing.assert_allclose(batch["image_a"], expected, atol=1e-6)
    assert transform.for_evaluation().downscale == 4
    with pytest.raises(ConfigError, match="does not divide"):
        ResizeAndCrop(crop_size=18, downscale=4)({"image": np.zeros((1, 24, 24, 3), np.uint8)}, seed=0, step=0,
                                                 positions=[0])


def test_config_errors(trainer):
    config = tiny_srgan()
    config.model.generator.scale = 2
    with pytest.raises(ConfigError, match="scale=2 but the data's target is 4x"):
        type(trainer.method).from_config(config, trainer.data)
    config = tiny_srgan()
    config.model.pretrain_steps = 3
    with pytest.raises(ConfigError, match="pretrain_steps=3"):
        type(trainer.method).from_config(config, trainer.data)


def _count_generator_calls(trainer):
    return module_calls(trainer, SRResNetGenerator)


def test_one_generator_forward_per_step(trainer):
    assert _count_generator_calls(trainer) == 1


def test_generated_outputs_depend_on_the_input(trainer):
    x = jnp.asarray(trainer.pipeline.local_batch(0)["image_a"][:2])
    out = jax.jit(trainer.method.translate)(trainer.state.generator_variables(), x, jax.random.PRNGKey(0))
    assert out.shape == (2, 28, 28, 1) and float(out.min()) >= -1 and float(out.max()) <= 1
    assert float(jnp.abs(out[0] - out[1]).mean()) > 1e-4
    columns = jax.jit(trainer.method.panel_columns)(trainer.state.generator_variables(), {"image_a": x, "image_b": x})
    assert [c.shape[1] for c in columns] == [7, 28, 28, 7]


def test_real_steps_srresnet_phase_then_srgan(trainer):
    """Step 0 (the SRResNet phase): G moves, D's params stay (its optimizer is masked); step 1: both move."""
    leaf = lambda side: np.asarray(jax.tree.leaves(side.params)[0])  # noqa: E731
    g0, d0 = leaf(trainer.state.generator), leaf(trainer.state.discriminator)
    metrics = jax.device_get(trainer.train_steps(1))
    assert metrics["g/phase"] == 0.0 and metrics["g/loss"] == pytest.approx(metrics["g/mse"])
    g1, d1 = leaf(trainer.state.generator), leaf(trainer.state.discriminator)
    assert not np.allclose(g0, g1) and np.array_equal(d0, d1)
    metrics = jax.device_get(trainer.train_steps(2))
    assert metrics["g/phase"] == 1.0 and trainer.step == 3 and all(np.isfinite(v) for v in metrics.values())
    assert not np.allclose(d1, leaf(trainer.state.discriminator))


def test_paper_size_networks_two_steps(tmp_path):
    """configs/srgan_paper.py as the paper runs it: 96x96 HR crops, 24x24 bicubic LR, 16 residual blocks,
    the 8-conv D, batch 1; the SRResNet phase for step 0, SRGAN for step 1 (content MSE: the VGG19 weights
    are the user's file)."""
    root = tmp_path / "hr" / "train"
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(2):
        images.write_png(str(root / f"{i}.png"), rng.integers(0, 256, (100, 100, 3), dtype=np.uint8))
    config = load_config("srgan_paper")
    config.data.source = f"images:{tmp_path / 'hr'}"
    config.loss.content = "mse"
    config.train.steps = 2
    config.train.batch_size = 1
    config.model.pretrain_steps = 1
    trainer = train_lib.Trainer(config, str(tmp_path / "run"), mesh=one_device_mesh())
    assert trainer.data.shape("image_a") == (24, 24, 3) and trainer.data.shape("image_b") == (96, 96, 3)
    n_params = sum(p.size for p in jax.tree.leaves(trainer.state.generator.params))
    # 9x9 3->64 + 16 blocks of two 3x3 64->64 + BN + PReLU, 3x3 64->64 + BN, 2 x (3x3 64->256 + PReLU), 9x9 64->3.
    expected = ((81 * 3 * 64 + 64) + 64 + 16 * (2 * (9 * 64 * 64 + 64) + 2 * 128 + 64) + (9 * 64 * 64 + 64) + 128
                + 2 * (9 * 64 * 256 + 256 + 64) + (81 * 64 * 3 + 3))
    assert n_params == expected
    metrics = jax.device_get(trainer.train_steps(2))
    assert trainer.step == 2 and all(np.isfinite(v) for v in metrics.values())
