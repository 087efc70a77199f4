"""SPADE: the modulation by hand with known weights, nearest resizing, batch statistics of the global
batch on 1 and 8 devices, the losses by hand with a probe D (what reaches D, hinge averaged over
scales, feature matching, KL of the style encoder), the generator's dependence on its map and z,
one generator forward per step, real training steps with a panel, and the paper-size networks at
512x256 with jax.eval_shape (shapes only)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxgan import images, methods
from jaxgan.methods.base import ArraySpec, DataInfo
from jaxgan.networks.spade import SPADE, SPADEModel, resize_nearest
from jaxgan.state import GANState, Side
from jaxgan.train_step import make_train_step

from conftest import RESUME_STEPS, load_config, module_calls, probe_state, resume_trainer
from test_pix2pixhd import IMAGE_WEIGHT, SEM_WEIGHT, ProbeMultiD


def test_resize_nearest_is_pytorchs():
    m = jnp.arange(9).reshape(1, 3, 3, 1)
    np.testing.assert_array_equal(resize_nearest(m, 2, 2)[0, ..., 0], [[0, 1], [3, 4]])  # floor(i * 3 / 2).
    np.testing.assert_array_equal(resize_nearest(jnp.asarray([[[[1], [3]]]]), 1, 4)[0, 0, :, 0], [1, 1, 3, 3])


def _centre_kernel(value, c_in=1, c_out=1, channel=0):
    k = np.zeros((3, 3, c_in, c_out), np.float32)
    k[1, 1, channel, :] = value
    return jnp.asarray(k)


def test_spade_modulation_by_hand():
    """out = BN(h) (1 + gamma(m)) + beta(m): a = ReLU(m_0) (centre-only shared conv), gamma = 2a + 0.5,
    beta = -a + 0.25, m (1x2) nearest-resized to h's 2x4; BN with the batch's own statistics."""
    h = jnp.asarray([[1.0, 2.0, 3.0, 4.0], [0.0, -1.0, 5.0, 2.0]]).reshape(1, 2, 4, 1)
    m = jnp.asarray([[1.0, -2.0], [3.0, 9.0]]).reshape(1, 1, 2, 2)  # Channel 0: (1, 3); channel 1: (-2, 9).
    params = {"shared": {"kernel": _centre_kernel(1.0, 2, 1, 0), "bias": jnp.zeros(1)},
              "gamma": {"kernel": _centre_kernel(2.0), "bias": jnp.asarray([0.5])},
              "beta": {"kernel": _centre_kernel(-1.0), "bias": jnp.asarray([0.25])}}
    module = SPADE(hidden=1)
    variables = module.init(jax.random.PRNGKey(0), h, m, train=False)
    assert jax.tree.map(jnp.shape, variables["params"]) == jax.tree.map(jnp.shape, params)
    out, _ = module.apply({**variables, "params": params}, h, m, train=True, mutable=["batch_stats"])
    hn = np.asarray(h)[0, ..., 0]
    normalized = (hn - hn.mean()) / np.sqrt(hn.var() + 1e-5)
    a = np.asarray([[1.0, 1.0, 3.0, 3.0]] * 2)  # relu(m_0) at columns floor(j * 2 / 4).
    np.testing.assert_allclose(out[0, ..., 0], normalized * (1 + 2 * a + 0.5) + (-a + 0.25), rtol=1e-5)


def test_batch_statistics_are_the_global_batchs_on_1_and_8_devices():
    """SPADE's batch norm under jit with the batch sharded over 8 devices normalises with the global
    batch's statistics (synchronised batch norm), as on 1 device; per-device statistics would differ."""
    module = SPADE(hidden=2)
    h = jax.random.normal(jax.random.PRNGKey(0), (8, 4, 4, 3)) * jnp.arange(1, 9.0)[:, None, None, None]
    m = jax.random.normal(jax.random.PRNGKey(1), (8, 4, 4, 2))
    variables = module.init(jax.random.PRNGKey(2), h, m, train=False)

    def run(devices):
        mesh = Mesh(np.asarray(devices), ("data",))
        sharded = NamedSharding(mesh, PartitionSpec("data"))
        fn = jax.jit(lambda v, x, y: module.apply(v, x, y, train=True, mutable=["batch_stats"]),
                     in_shardings=(NamedSharding(mesh, PartitionSpec()), sharded, sharded))
        return jax.device_get(fn(variables, h, m))

    (one, stats_one), (eight, stats_eight) = run(jax.devices()[:1]), run(jax.devices()[:8])
    np.testing.assert_allclose(one, eight, rtol=1e-5, atol=1e-5)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6), stats_one, stats_eight)
    per_device = jnp.concatenate([module.apply(variables, h[i:i + 1], m[i:i + 1], train=True,
                                               mutable=["batch_stats"])[0] for i in range(8)])
    assert float(jnp.abs(per_device - eight).max()) > 0.1


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    return resume_trainer("spade", tmp_path_factory.mktemp("spade"))


def test_losses_by_hand_with_what_reaches_d(trainer):
    """Hinge averaged over the 2 scales: loss_D = mean_k relu(1 - r_k) + mean_k relu(1 + f_k);
    loss_G = -mean_k f_k + 10 L_FM (layer weight 1) + 0.05 KL(N(mu, sigma^2) || N(0, 1))."""
    k_classes = 3
    method = dataclasses.replace(trainer.method, discriminator=ProbeMultiD(k_classes + 1), num_label_classes=k_classes)
    assert method.use_vae
    labels = jnp.asarray(np.tile([0, 1, 2, 1], (2, 4, 1)))
    instances = jnp.asarray(np.tile([0, 0, 1, 1], (2, 4, 1)))
    x, fake = jnp.full((2, 4, 4, 3), 0.5), jnp.full((2, 4, 4, 3), -0.3)
    batch = {"label_map": labels, "instance_map": instances, "image_b": x}
    s_mean = 1.5 / (k_classes + 1)
    r = np.asarray([(k + 1) * (SEM_WEIGHT * s_mean + IMAGE_WEIGHT * 0.5) for k in range(2)])
    f = np.asarray([(k + 1) * (SEM_WEIGHT * s_mean + IMAGE_WEIGHT * -0.3) for k in range(2)])
    mu, log_variance = jnp.asarray([[0.5, -1.0], [0.0, 2.0]]), jnp.asarray([[0.0, np.log(2.0)], [-1.0, 0.0]])
    generated = {"image": fake, "mu": mu, "log_variance": log_variance}
    d_loss, _ = method.discriminator_loss({}, probe_state(), batch, generated, jax.random.PRNGKey(1))
    np.testing.assert_allclose(d_loss, np.mean(np.maximum(1 - r, 0)) + np.mean(np.maximum(1 + f, 0)), rtol=1e-6)
    g_loss, (metrics, _) = method.generator_loss(generated, probe_state(), batch, jax.random.PRNGKey(2))
    feature_matching = 0.5 * sum((k + 1) * 0.8 for k in range(2))  # 1/K sum_k mean|(k+1)(-0.3 - 0.5)|.
    m, lv = np.asarray(mu), np.asarray(log_variance)
    kl = np.mean(np.sum(-0.5 * (1 + lv - m ** 2 - np.exp(lv)), axis=1))
    np.testing.assert_allclose([metrics["feature_matching"], metrics["kl"]], [feature_matching, kl], rtol=1e-6)
    np.testing.assert_allclose(g_loss, -np.mean(f) + 10 * feature_matching + 0.05 * kl, rtol=1e-6)


def test_generator_depends_on_map_z_and_style(trainer):
    variables = trainer.state.generator_variables()
    batch = trainer.pipeline.local_batch(0)
    labels, instances = jnp.asarray(batch["label_map"][:1]), jnp.asarray(batch["instance_map"][:1])
    translate = jax.jit(lambda lm, key, style=None: trainer.method.translate(variables, lm, key, instances, style))
    out = translate(labels, jax.random.PRNGKey(0))
    assert out.shape == (1, 32, 32, 3)
    other_labels = jnp.where(labels > 0, 1 + labels % 10, 0)
    assert float(jnp.abs(out - translate(other_labels, jax.random.PRNGKey(0))).max()) > 1e-5
    assert float(jnp.abs(out - translate(labels, jax.random.PRNGKey(1))).max()) > 1e-5  # Another z.
    style = jnp.asarray(batch["image_b"][:1])
    np.testing.assert_array_equal(translate(labels, jax.random.PRNGKey(0), style),
                                  translate(labels, jax.random.PRNGKey(1), style))  # z = mu(style): no draw.


def test_one_generator_forward_per_step(trainer):
    assert module_calls(trainer, SPADEModel) == 1


def test_real_steps_write_a_panel(trainer):
    trainer.run()  # The resume config's 4 steps (the loop stops on a non-finite step), then the panel.
    assert trainer.step == RESUME_STEPS and int(trainer.state.nonfinite_steps) == 0
    assert "encoder" in trainer.state.generator.params  # The style encoder trains on the generator side.
    panel = images.read_png(f"{trainer.workdir}/samples/step_{RESUME_STEPS:07d}.png")
    assert panel.shape == (2 * 34 + 2, 3 * 34 + 2, 3)  # label map | output | target.


def test_paper_size_512x256_shapes():
    """configs/spade_cityscapes.py:vae at 512x256 (35 classes + edges), whole train step traced with
    jax.eval_shape (no compute): the 8x4 start of 6 up-samplings, widths 16 ngf .. ngf."""
    config = load_config("spade_cityscapes", "vae")
    config.loss.vgg_weight = 0.0  # No VGG19 weights here (the term is pix2pixHD's, tested there).
    maps = {key: ArraySpec((256, 512), "int32") for key in ("label_map", "instance_map")}
    data = DataInfo({**maps, "image_b": ArraySpec((256, 512, 3), "float32")}, num_label_classes=35)
    method = methods.build(config, data)
    batch = data.example(1)
    g_vars, d_vars, _ = jax.eval_shape(method.init, jax.random.PRNGKey(0), batch)
    generator = g_vars["params"]["generator"]
    assert generator["fc"]["kernel"].shape == (256, 16 * 64 * 8 * 4)  # z -> 8x4x1024.
    assert generator["up_3"]["conv_1"]["kernel"].shape == (3, 3, 64, 64)
    assert generator["head_0"]["norm_0"]["shared"]["kernel"].shape == (3, 3, 36, 128)
    tx = optax.adam(1e-4)
    side = lambda v: Side(v["params"], {k: c for k, c in v.items() if k != "params"},  # noqa: E731
                          jax.eval_shape(tx.init, v["params"]))
    state = GANState(step=jnp.zeros((), jnp.int32), rng=jax.random.PRNGKey(0), generator=side(g_vars),
                     discriminator=side(d_vars), ema_params=None, method_state={},
                     nonfinite_steps=jnp.zeros((), jnp.int32))
    _, metrics = jax.eval_shape(make_train_step(method, discriminator_tx=tx, generator_tx=tx), state, batch)
    assert {"g/feature_matching", "g/kl", "d/real_loss"} <= set(metrics)
    out = jax.eval_shape(method.translate, g_vars, batch["label_map"], jax.random.PRNGKey(0), batch["instance_map"])
    assert out.shape == (1, 256, 512, 3)
