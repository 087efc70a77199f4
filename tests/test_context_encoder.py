"""Context Encoders: the overlap weights and both losses by hand with what reaches D, the channel-wise
fully-connected layer (no channel mixing, m n^4 weights), completions equal to the input outside the
hole, the hole metrics, one generator forward per step, real steps, and the paper-size networks."""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import images
from jaxgan import train as train_lib
from jaxgan.errors import ConfigError
from jaxgan.methods import build
from jaxgan.methods.base import DataInfo
from jaxgan.methods.context_encoder import overlap_weights
from jaxgan.metrics.translation import hole_metrics
from jaxgan.networks.context_encoder import ChannelwiseFullyConnected, ContextEncoderGenerator

from conftest import load_config, module_calls, one_device_mesh, probe_state, resume_trainer, tiny_context_encoder


class ProbeD(nn.Module):
    """A parameter-free D whose logit is the mean of the image it is given."""

    @nn.compact
    def __call__(self, x, labels, *, train):
        return x.mean(axis=(1, 2, 3))


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    return resume_trainer("context_encoder", tmp_path_factory.mktemp("context_encoder"))


def test_overlap_weights_by_hand():
    mask = np.zeros((1, 6, 6, 1), np.float32)
    mask[0, 2:4, 1:3] = 1  # A 2x2 hole.
    expected = np.zeros((6, 6))
    expected[1:5, 0:4] = 10.0  # The 1-pixel frame around it (a 3x3 window), cut at the left border.
    expected[2:4, 1:3] = 1.0
    np.testing.assert_array_equal(overlap_weights(mask, 1, 10.0)[0, :, :, 0], expected)
    np.testing.assert_array_equal(overlap_weights(mask, 0, 10.0), mask)  # Eq. 1's plain mask.
    two = np.asarray(overlap_weights(mask, 2, 10.0)[0, :, :, 0])
    assert two[0, 0] == 10 and two[5, 4] == 10 and two[5, 5] == 0  # 2 pixels reach column 4, not 5.
    with pytest.raises(ConfigError, match="overlap"):
        overlap_weights(mask, -1, 10.0)


def _probe_method(trainer, **changes):
    """The tiny method on 4x4 images (its generator predicts the whole 4x4 image) with the probe D."""
    return dataclasses.replace(trainer.method, discriminator=ProbeD(), image_size=(4, 4), overlap=1, **changes)


@pytest.mark.parametrize("lambda_adv", [0.001, 0.0], ids=["l2_adversarial", "l2_only"])
def test_losses_by_hand_with_what_reaches_d(trainer, lambda_adv):
    """4x4 images y = 0.5, hole the central 2x2 (filled with -1 in x_in), F's prediction 0.3 everywhere.
    D's real input is y (mean 0.5); its fake input is the completion, y outside the hole and 0.3 in it
    (mean (12 * 0.5 + 4 * 0.3) / 16 = 0.45), not the raw prediction (0.3) nor x_in (0.125).
    The 1-pixel frame covers the rest of the image: W = 1 on 4 pixels, 10 on 12, mean 7.75, so
    L_rec = 7.75 * 0.2^2 = 0.31."""
    method = _probe_method(trainer, lambda_adv=lambda_adv)
    mask = np.zeros((2, 4, 4, 1), np.float32)
    mask[:, 1:3, 1:3] = 1
    y = np.full((2, 4, 4, 1), 0.5, np.float32)
    batch = {"image_a": np.where(mask > 0, -1.0, y).astype(np.float32), "image_b": y, "mask": mask}
    prediction = jnp.full((2, 4, 4, 1), 0.3)
    softplus = lambda v: np.log1p(np.exp(v))  # noqa: E731
    d_loss, (d_metrics, _) = method.discriminator_loss({}, probe_state(), batch, prediction, jax.random.PRNGKey(1))
    np.testing.assert_allclose([d_metrics["real_logit"], d_metrics["fake_logit"]], [0.5, 0.45], rtol=1e-6)
    np.testing.assert_allclose(d_loss, softplus(-0.5) + softplus(0.45), rtol=1e-6)  # Not halved.
    g_loss, (g_metrics, _) = method.generator_loss(prediction, probe_state(), batch, jax.random.PRNGKey(2))
    np.testing.assert_allclose(g_metrics["reconstruction"], 0.31, rtol=1e-5)
    np.testing.assert_allclose(g_metrics["hole_l2"], 0.04, rtol=1e-5)
    np.testing.assert_allclose(g_loss, lambda_adv * softplus(-0.45) + 0.999 * 0.31, rtol=1e-5)


def test_channelwise_fc_does_not_mix_channels():
    m, n = 3, 4
    layer = ChannelwiseFullyConnected()
    x = jax.random.normal(jax.random.PRNGKey(0), (2, n, n, m))
    variables = layer.init(jax.random.PRNGKey(1), x)
    kernel = variables["params"]["kernel"]
    assert kernel.shape == (m, n * n, n * n) and kernel.size == m * n ** 4
    y = layer.apply(variables, x)
    for c in range(m):  # Channel c's maps times its own n^2 x n^2 matrix.
        np.testing.assert_allclose(y[..., c].reshape(2, -1), x[..., c].reshape(2, -1) @ kernel[c], rtol=1e-5, atol=1e-5)
    changed = layer.apply(variables, x.at[..., 1].add(1.0))
    np.testing.assert_array_equal(changed[..., [0, 2]], y[..., [0, 2]])  # Other channels untouched.
    assert float(jnp.abs(changed[..., 1] - y[..., 1]).max()) > 1e-3


def test_paper_generator_sizes():
    """The paper config's generator: 128 -> 4x4x512, channel-wise FC of 512 x 4^4 weights, 64x64 centre."""
    g = ContextEncoderGenerator(3)
    assert g.bottleneck_size(128, 128) == (4, 4) and g.output_size(128, 128) == (64, 64)
    shapes = jax.eval_shape(lambda: g.init(jax.random.PRNGKey(0), jnp.zeros((1, 128, 128, 3)), train=False))
    assert shapes["params"]["channelwise_fc"]["kernel"].shape == (512, 16, 16)
    with pytest.raises(ConfigError, match="divisible by 2"):
        ContextEncoderGenerator(1, encoder_features=(4, 4, 4)).bottleneck_size(28, 28)


def test_completion_equals_the_input_outside_the_hole(trainer):
    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}
    variables = trainer.state.generator_variables()
    out = trainer.method.translate(variables, batch["image_a"], jax.random.PRNGKey(0), mask=batch["mask"])
    raw = trainer.method.generator.apply(variables, batch["image_a"], train=False)
    hole = np.broadcast_to(np.asarray(batch["mask"]) > 0, out.shape)
    np.testing.assert_array_equal(np.asarray(out)[~hole], np.asarray(batch["image_a"])[~hole])
    np.testing.assert_array_equal(np.asarray(out)[hole], np.asarray(raw)[hole])
    # F depends on its input (its initial outputs are ~1e-8: N(0, 0.02^2) weights, running statistics).
    assert float(jnp.abs(raw[0] - raw[1]).mean()) > 0.1 * float(jnp.abs(raw).mean()) > 0
    columns = trainer.method.panel_columns(variables, batch)
    np.testing.assert_array_equal(columns[1], out)
    np.testing.assert_array_equal(columns[2], batch["image_b"])


def test_center_hole_of_plain_images_and_a_box_prediction():
    """Plain 16x16 images: the method cuts the central 6x6 hole and fills it; F predicts the central
    8x8 box (16 -> 2 -> 8), which the completion places at offset (4, 4)."""
    config = load_config("context_encoder_paper")
    config.model.center_hole = 6
    config.model.fill = (128,)
    config.model.generator.update(dict(encoder_features=(2, 2, 2), decoder_features=(2,)))
    data = DataInfo.from_batch({"image": np.zeros((1, 16, 16, 1), np.float32)})
    method = build(config, data)
    assert method.box == (4, 4, 8, 8)
    image = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 1)), jnp.float32)
    x_in, x, mask = method.inpainting_inputs({"image": image})
    np.testing.assert_array_equal(mask[0, :, :, 0], np.pad(np.ones((6, 6)), 5))
    np.testing.assert_allclose(x_in[:, 5:11, 5:11], 128 / 127.5 - 1)
    np.testing.assert_array_equal(np.asarray(x_in)[np.asarray(mask) == 0], np.asarray(image)[np.asarray(mask) == 0])
    prediction = jnp.arange(64, dtype=jnp.float32).reshape(1, 8, 8, 1).repeat(2, 0) / 64
    completed = method.complete(x_in, prediction, mask)
    np.testing.assert_array_equal(completed[:, 5:11, 5:11], prediction[:, 1:7, 1:7])
    np.testing.assert_array_equal(np.asarray(completed)[np.asarray(mask) == 0], np.asarray(x)[np.asarray(mask) == 0])
    weights = method.crop(overlap_weights(mask, 1, 10.0))
    assert float(weights.sum()) / 2 == 36 + 10 * (64 - 36)  # The box is the hole plus its 1-pixel frame.


def test_configuration_errors(trainer):
    config = tiny_context_encoder()
    with pytest.raises(ConfigError, match="needs hole masks"):
        build(config, DataInfo.from_batch({"image": np.zeros((1, 28, 28, 1), np.float32)}))
    config.model.generator.decoder_features = ()  # 7 -> 14: not the whole image.
    with pytest.raises(ConfigError, match="whole image"):
        build(config, trainer.data)


def test_hole_metrics_by_hand():
    target = np.zeros((2, 2, 2, 1))
    prediction = np.zeros((2, 2, 2, 1))
    mask = np.zeros((2, 2, 2, 1))
    mask[0, 0, 0] = 1
    mask[1, :, 1] = 1
    prediction[0, 0, 0] = 1.0  # 0.5 on [0, 1].
    prediction[1, 0, 1], prediction[1, 1, 1] = -0.2, 0.2  # 0.1 each.
    prediction[1, 0, 0] = 1.0  # Outside the hole: ignored.
    result = hole_metrics(prediction, target, mask)
    np.testing.assert_allclose(result["hole_l1"], (0.5 + 0.1 + 0.1) / 3)
    np.testing.assert_allclose(result["hole_l2"], (0.25 + 0.01 + 0.01) / 3)
    np.testing.assert_allclose(result["hole_psnr"], (10 * np.log10(1 / 0.25) + 10 * np.log10(1 / 0.01)) / 2)
    with pytest.raises(ValueError, match="empty mask"):
        hole_metrics(prediction, target, np.zeros_like(mask))


def test_one_generator_forward_per_step(trainer):
    assert module_calls(trainer, ContextEncoderGenerator) == 1


def test_real_steps(trainer):
    before = jax.device_get(trainer.state.generator.params)
    metrics = jax.device_get(trainer.train_steps(2))
    assert trainer.step == 2 and all(np.isfinite(v) for v in metrics.values())
    after = jax.device_get(trainer.state.generator.params)
    assert not np.allclose(before["channelwise_fc"]["kernel"], after["channelwise_fc"]["kernel"])
    assert metrics["g/reconstruction"] > 0 and metrics["d/loss"] > 0


def test_paper_size_networks_two_steps(tmp_path):
    """configs/context_encoder_paper.py as the paper runs it (load 350, crop 128, flip, central 56x56
    hole, F -> the 64x64 centre, D on it), at batch 1: builds and makes 2 finite steps."""
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        images.write_png(str(folder / f"{i}.png"), rng.integers(0, 256, (160, 160, 3), dtype=np.uint8))
    config = load_config("context_encoder_paper")
    config.data.source = f"images:{folder}"
    config.train.steps = 2
    config.train.batch_size = 1
    trainer = train_lib.Trainer(config, str(tmp_path / "run"), mesh=one_device_mesh())
    assert trainer.data.shape("image") == (128, 128, 3) and trainer.method.box == (32, 32, 64, 64)
    assert trainer.state.generator.params["channelwise_fc"]["kernel"].size == 512 * 4 ** 4
    metrics = jax.device_get(trainer.train_steps(2))
    assert trainer.step == 2 and all(np.isfinite(v) for v in metrics.values())
