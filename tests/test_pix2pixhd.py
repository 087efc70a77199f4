"""pix2pixHD: the feature-matching loss, the instance boundary map and the method's losses by hand
(what reaches D on each side, via a probe D), the generator's dependence on its label and instance
maps, one generator forward per step, the local enhancer's phase, real training steps with a
panel, and the paper-size networks at 1024x512 with jax.eval_shape (shapes only: 2 real steps of the
paper's networks even at 32x64 took 172 s on the shared CPU, over the test budget)."""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan import images, losses, methods, perceptual
from jaxgan.errors import ConfigError
from jaxgan.methods import pix2pixhd
from jaxgan.methods.base import ArraySpec, DataInfo
from jaxgan.networks.pix2pixhd import Pix2PixHDGenerator
from jaxgan.state import GANState, Side
from jaxgan.train_step import make_train_step

from conftest import RESUME_STEPS, load_config, module_calls, probe_state, resume_trainer

SEM_WEIGHT, IMAGE_WEIGHT = 1.0, 3.0


def test_feature_matching_loss_by_hand():
    """Two scales of two layers: L_FM = 1/2 sum_k (4/2) sum_i mean|real - fake|; no gradient into real."""
    real = [[jnp.zeros((1, 2, 2, 1)), jnp.ones((1, 1, 1, 2))], [jnp.full((1, 1, 1, 1), 2.0), jnp.zeros((1, 1, 1, 3))]]
    fake = [[jnp.asarray([1.0, -1.0, 3.0, 0.0]).reshape(1, 2, 2, 1), jnp.asarray([0.0, 3.0]).reshape(1, 1, 1, 2)],
            [jnp.full((1, 1, 1, 1), 5.0), jnp.asarray([1.0, 2.0, 3.0]).reshape(1, 1, 1, 3)]]
    means = [(1 + 1 + 3 + 0) / 4, (1 + 2) / 2, 3.0, (1 + 2 + 3) / 3]
    expected = 0.5 * 2.0 * sum(means)  # 1/K, w = 4/T with T = 2 layers.
    np.testing.assert_allclose(losses.feature_matching_loss(real_features=real, fake_features=fake), expected,
                               rtol=1e-6)
    np.testing.assert_allclose(losses.feature_matching_loss(real_features=real, fake_features=fake, layer_weight=1.0),
                               0.5 * sum(means), rtol=1e-6)
    grad_real = jax.grad(lambda r: losses.feature_matching_loss(real_features=r, fake_features=fake))(real)
    assert all(float(jnp.abs(g).sum()) == 0 for g in jax.tree.leaves(grad_real))
    grad_fake = jax.grad(lambda f: losses.feature_matching_loss(real_features=real, fake_features=f))(fake)
    np.testing.assert_allclose(grad_fake[0][1], np.asarray([-0.5, 0.5]).reshape(1, 1, 1, 2))  # 1/K * w * sign / 2.


def test_instance_edges_by_hand():
    """A pixel is 1 where its id differs from a 4-neighbour's: both sides of every boundary."""
    t = np.asarray([[0, 0, 0, 0],
                    [0, 7, 7, 0],
                    [0, 7, 7, 0],
                    [3, 3, 3, 3]])
    expected = np.asarray([[0, 1, 1, 0],
                           [1, 1, 1, 1],
                           [1, 1, 1, 1],
                           [1, 1, 1, 1]])
    np.testing.assert_array_equal(pix2pixhd.instance_edges(jnp.asarray(t)[None])[0, ..., 0], expected)
    np.testing.assert_array_equal(pix2pixhd.instance_edges(jnp.zeros((1, 3, 5), jnp.int32)), np.zeros((1, 3, 5, 1)))
    s = pix2pixhd.semantic_input(jnp.asarray([[[2, 0]]]), 3, jnp.asarray([[[1, 2]]]))
    np.testing.assert_array_equal(s, [[[[0, 0, 1, 1], [1, 0, 0, 1]]]])  # One-hot of 3 classes, then the edge.


def test_palette_is_fixed_and_matches_the_scene_colours():
    from jaxgan.data.derived import CLASS_COLOURS
    colours = pix2pixhd.palette(11)
    np.testing.assert_array_equal(colours[0], [0, 0, 0])
    np.testing.assert_allclose(colours[1:], CLASS_COLOURS, atol=1e-6)  # Label k = digit k - 1's hue.
    out = pix2pixhd.colourise(jnp.asarray([[[0, 1]]]), 11)
    np.testing.assert_allclose(out[0, 0], [[-1, -1, -1], 2 * CLASS_COLOURS[0] - 1], atol=1e-6)


class ProbeMultiD(nn.Module):
    """A parameter-free 2-scale D whose scale-k logit is (k + 1) (SEM_WEIGHT * mean(the first
    ``semantic_channels`` channels: s) + IMAGE_WEIGHT * mean(the rest: x or G(s))) and whose one
    activation is (k + 1) times the image part."""

    semantic_channels: int

    @nn.compact
    def __call__(self, pair, *, train, return_features=False):
        c = self.semantic_channels
        image = pair[..., c:]
        out = []
        for k in range(2):
            means = SEM_WEIGHT * pair[..., :c].mean(axis=(1, 2, 3)) + IMAGE_WEIGHT * image.mean(axis=(1, 2, 3))
            logit = (k + 1) * means
            out.append((logit[:, None, None, None], [(k + 1) * image]))
        return out


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    return resume_trainer("pix2pixhd", tmp_path_factory.mktemp("pix2pixhd"))


def test_losses_by_hand_with_what_reaches_d(trainer):
    """D sees [one_hot(labels), edges] then x (real) or G(s) (fake); LSGAN summed over scales:
    loss_D = 1/2 sum_k [1/2 (r_k - 1)^2 + 1/2 f_k^2], loss_G = 2 sum_k 1/2 (f_k - 1)^2 + 10 L_FM."""
    k_classes = 3
    method = dataclasses.replace(trainer.method, discriminator=ProbeMultiD(k_classes + 1), num_label_classes=k_classes)
    labels = jnp.asarray(np.tile([0, 1, 2, 1], (2, 4, 1)))
    instances = jnp.asarray(np.tile([0, 0, 1, 1], (2, 4, 1)))  # Boundary between columns 1 and 2: half the pixels.
    x, fake = jnp.full((2, 4, 4, 3), 0.5), jnp.full((2, 4, 4, 3), 0.3)
    batch = {"label_map": labels, "instance_map": instances, "image_b": x}
    s_mean = (1 + 0.5) / (k_classes + 1)  # One hot channel per pixel, edges on half the pixels.
    r = np.asarray([(k + 1) * (SEM_WEIGHT * s_mean + IMAGE_WEIGHT * 0.5) for k in range(2)])
    f = np.asarray([(k + 1) * (SEM_WEIGHT * s_mean + IMAGE_WEIGHT * 0.3) for k in range(2)])
    d_loss, (d_metrics, _) = method.discriminator_loss({}, probe_state(), batch, {"image": fake},
                                                       jax.random.PRNGKey(1))
    np.testing.assert_allclose(d_loss, 0.5 * np.sum(0.5 * (r - 1) ** 2 + 0.5 * f ** 2), rtol=1e-6)
    np.testing.assert_allclose([d_metrics["real_logit"], d_metrics["fake_logit"]], [r.mean(), f.mean()], rtol=1e-6)
    g_loss, (g_metrics, _) = method.generator_loss({"image": fake}, probe_state(), batch, jax.random.PRNGKey(2))
    feature_matching = 0.5 * sum(4.0 * (k + 1) * 0.2 for k in range(2))  # 1/K sum_k 4/T mean|(k+1)(0.3 - 0.5)|.
    np.testing.assert_allclose(g_metrics["feature_matching"], feature_matching, rtol=1e-6)
    np.testing.assert_allclose(g_loss, 2.0 * np.sum(0.5 * (f - 1) ** 2) + 10.0 * feature_matching, rtol=1e-6)


def test_vgg_term_by_hand(trainer):
    """loss_G with lambda_VGG = 10 exceeds loss_G without it by 10 sum_i w_i mean|phi_i(G(s)) - phi_i(x)|
    (relu1_1 .. relu5_1, w = 1/32 .. 1), VGG19 read from the method state; no gradient reaches x."""
    vgg = jax.jit(lambda: perceptual.VGG19Features("relu5_1").init(jax.random.PRNGKey(3), jnp.zeros((1, 16, 16, 3))))()
    state = probe_state().replace(method_state={pix2pixhd.VGG_STATE: vgg})
    base = dataclasses.replace(trainer.method, discriminator=ProbeMultiD(12), num_label_classes=11)
    rng = np.random.default_rng(0)
    batch = {"label_map": jnp.asarray(rng.integers(0, 11, (2, 16, 16))), "instance_map": jnp.zeros((2, 16, 16), int),
             "image_b": jnp.asarray(rng.uniform(-1, 1, (2, 16, 16, 3)), jnp.float32)}
    fake = {"image": jnp.asarray(rng.uniform(-1, 1, (2, 16, 16, 3)), jnp.float32)}
    without, _ = jax.jit(base.generator_loss)(fake, state, batch, jax.random.PRNGKey(0))
    with_vgg, (metrics, _) = jax.jit(dataclasses.replace(base, vgg_weight=10.0).generator_loss)(
        fake, state, batch, jax.random.PRNGKey(0))
    phi = jax.jit(lambda x: perceptual.VGG19Features("relu5_1").apply(vgg, perceptual.vgg_input(x)))
    f, r = phi(fake["image"]), phi(batch["image_b"])
    expected = sum(w * jnp.mean(jnp.abs(f[layer] - r[layer]))
                   for w, layer in zip((1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0), ("relu1_1", "relu2_1", "relu3_1",
                                                                             "relu4_1", "relu5_1")))
    np.testing.assert_allclose(metrics["vgg"], expected, rtol=1e-5)
    np.testing.assert_allclose(with_vgg - without, 10.0 * expected, rtol=1e-4)


def test_paper_config_without_vgg_weights_names_the_fix():
    config = load_config("pix2pixhd_cityscapes")
    with pytest.raises(ConfigError, match="loss.vgg_weights"):
        methods.build(config, _paper_data(32, 64))


def test_generator_depends_on_labels_and_instances(trainer):
    variables = trainer.state.generator_variables()
    batch = trainer.pipeline.local_batch(0)
    labels, instances = jnp.asarray(batch["label_map"][:1]), jnp.asarray(batch["instance_map"][:1])
    translate = jax.jit(trainer.method.translate)
    out = translate(variables, labels, jax.random.PRNGKey(0), instances)
    assert out.shape == (1, 32, 32, 3)
    other_labels = jnp.where(labels > 0, 1 + labels % 10, 0)  # Same shapes, other classes.
    assert float(jnp.abs(out - translate(variables, other_labels, None, instances)).max()) > 1e-5
    no_boundaries = jnp.zeros_like(instances)
    assert float(jnp.abs(out - translate(variables, labels, None, no_boundaries)).max()) > 1e-5


def test_one_generator_forward_per_step(trainer):
    assert module_calls(trainer, Pix2PixHDGenerator) == 1


def _injected_counts(opt_state):
    is_injected = lambda s: isinstance(s, optax.InjectStatefulHyperparamsState)  # noqa: E731
    return [int(s.count) for s in jax.tree.leaves(opt_state, is_leaf=is_injected) if is_injected(s)]


def test_local_enhancer_trains_alone_then_all_of_g_with_a_panel(trainer):
    """niter_fix_global = 1: update 1 moves only the local enhancer's parameters, update 2 also G1's,
    whose schedule position is then the run's (2, not 1); the training loop's last steps write the panel."""
    start = jax.device_get(trainer.state.generator.params)
    trainer.train_steps(1)
    after_1 = jax.device_get(trainer.state.generator.params)
    moved = lambda a, b: any(not np.array_equal(x, y)  # noqa: E731
                             for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))
    assert not moved(start["global"], after_1["global"])
    assert moved(start["local_1"], after_1["local_1"])
    trainer.train_steps(1)
    after_2 = jax.device_get(trainer.state.generator.params)
    assert moved(after_1["global"], after_2["global"])
    assert sorted(_injected_counts(trainer.state.generator.opt_state)) == [2, 2]
    trainer.run()  # The remaining steps, through the training loop (stops on a non-finite step), and the panel.
    assert trainer.step == RESUME_STEPS and int(trainer.state.nonfinite_steps) == 0
    panel = images.read_png(f"{trainer.workdir}/samples/step_{RESUME_STEPS:07d}.png")
    assert panel.shape == (2 * 34 + 2, 3 * 34 + 2, 3)  # 2 held-out rows of label map | output | target.


def _paper_data(height, width):
    maps = {key: ArraySpec((height, width), "int32") for key in ("label_map", "instance_map")}
    return DataInfo({**maps, "image_b": ArraySpec((height, width, 3), "float32")}, num_label_classes=35)


def _global_generator_params(c_in, ngf=64, downs=4, blocks=9, c_out=3):
    """Parameters of G1 counted from its layer shapes (conv k x k: k^2 C_in C_out + C_out)."""
    conv = lambda k, a, b: k * k * a * b + b  # noqa: E731
    n = conv(7, c_in, ngf) + sum(conv(3, ngf * 2 ** j, ngf * 2 ** (j + 1)) for j in range(downs))
    n += blocks * 2 * conv(3, ngf * 2 ** downs, ngf * 2 ** downs)
    n += sum(conv(3, ngf * 2 ** (j + 1), ngf * 2 ** j) for j in range(downs)) + conv(7, ngf, c_out)
    return n


def test_paper_size_1024x512_shapes():
    """configs/pix2pixhd_cityscapes.py at 1024x512 (35 classes + boundaries): G1's parameter count from
    its layer shapes and a whole train step's output shapes, with jax.eval_shape (no compute)."""
    config = load_config("pix2pixhd_cityscapes")
    config.loss.vgg_weight = 0.0  # No VGG19 weights here (the term is tested by hand above).
    method = methods.build(config, _paper_data(512, 1024))
    batch = _paper_data(512, 1024).example(1)
    g_vars, d_vars, _ = jax.eval_shape(method.init, jax.random.PRNGKey(0), batch)
    assert sum(p.size for p in jax.tree.leaves(g_vars["params"])) == _global_generator_params(36)
    tx = optax.adam(2e-4)
    side = lambda v: Side(v["params"], {}, jax.eval_shape(tx.init, v["params"]))  # noqa: E731
    state = GANState(step=jnp.zeros((), jnp.int32), rng=jax.random.PRNGKey(0), generator=side(g_vars),
                     discriminator=side(d_vars), ema_params=None, method_state={},
                     nonfinite_steps=jnp.zeros((), jnp.int32))
    _, metrics = jax.eval_shape(make_train_step(method, discriminator_tx=tx, generator_tx=tx), state, batch)
    assert {"g/feature_matching", "g/adversarial", "d/real_loss"} <= set(metrics)
    out = jax.eval_shape(method.translate, g_vars, batch["label_map"], None, batch["instance_map"])
    assert out.shape == (1, 512, 1024, 3)
