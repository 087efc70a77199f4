"""ComboGAN: the encoder/decoder halves are CycleGAN's ResNet G, N networks of each kind for N domains (not
N(N-1) generators), the pair draw, both losses by hand with probe Ds (which D judges which images, through
which pool), the per-network optimizer, one forward per step, and real steps in which only the drawn
pair's networks and optimizer states change."""

import dataclasses
import functools
import itertools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan import methods, optim
from jaxgan import train as train_lib
from jaxgan.errors import ConfigError
from jaxgan.methods import image_pool
from jaxgan.methods.base import ArraySpec, DataInfo
from jaxgan.methods.combogan import domain_pair, per_network
from jaxgan.networks.combogan import ResNetDecoder, ResNetEncoder
from jaxgan.networks.resnet_translator import ResNetTranslator
from jaxgan.state import GANState, Side
from jaxgan.train_step import make_train_step

from conftest import load_config, resume_trainer, tiny_combogan

LETTERS = "abcd"


def _data(n=4, size=16, channels=1):
    return DataInfo({f"image_{l}": ArraySpec((size, size, channels), "float32") for l in LETTERS[:n]})


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    return resume_trainer("combogan", tmp_path_factory.mktemp("combogan"))


# --- Networks ----------------------------------------------------------------------------------------------

def test_encoder_then_decoder_is_cycleganss_resnet_generator():
    """ResNetDecoder(ResNetEncoder(x)) with 0 + 1 blocks, given ResNetTranslator(1 block)'s parameters layer
    by layer, computes the translator's output; at paper size 4 + 5 blocks hold resnet_9blocks' 11,378,179."""
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 8, 3))
    translator = ResNetTranslator(3, features=2, blocks=1)
    t = jax.jit(functools.partial(translator.init, train=False))(jax.random.PRNGKey(0), x)["params"]
    encoder, decoder = ResNetEncoder(features=2, blocks=0), ResNetDecoder(output_channels=3, features=2, blocks=1)
    e = {f"Conv_{i}": t[f"Conv_{i}"] for i in range(3)}  # c7s1, d, d.
    d = {**{f"Conv_{i}": t[f"Conv_{i + 3}"] for i in range(3)}, "ConvTranspose_0": t["ConvTranspose_0"],
         "ConvTranspose_1": t["ConvTranspose_1"]}  # The block's two convolutions, the last c7s1.
    z = jax.jit(functools.partial(encoder.apply, train=False))({"params": e}, x)
    assert z.shape == (2, 2, 2, 8)
    np.testing.assert_allclose(jax.jit(functools.partial(decoder.apply, train=False))({"params": d}, z),
                               jax.jit(functools.partial(translator.apply, train=False))({"params": t}, x), atol=1e-5)
    count = lambda tree: sum(p.size for p in jax.tree.leaves(tree))  # noqa: E731
    big = jnp.zeros((1, 64, 64, 3))
    e = jax.eval_shape(lambda: ResNetEncoder(blocks=4).init(jax.random.PRNGKey(0), big, train=False))
    d = jax.eval_shape(lambda: ResNetDecoder(output_channels=3, blocks=5).init(jax.random.PRNGKey(0), jnp.zeros((1, 16, 16, 256)),
                                                               train=False))
    assert count(e) + count(d) == 11_378_179


def test_n_domains_get_n_encoders_decoders_and_discriminators_not_n_n_minus_1_generators():
    method = methods.build(tiny_combogan(), _data())
    g, d, state = jax.eval_shape(method.init, jax.random.PRNGKey(0), _data().example(2))
    assert sorted(g["params"]) == sorted([f"encoder_{i}" for i in range(4)] + [f"decoder_{i}" for i in range(4)])
    assert sorted(d["params"]) == [f"discriminator_{i}" for i in range(4)]
    assert sorted(state) == [f"pool_{i}" for i in range(4)]
    # The 12 directions all come from these 8 networks: G_j(E_i(.)) for i != j.
    assert len(method.panel_column_names) == 4 * 4 and "a->d" in method.panel_column_names


def test_configs_and_errors():
    assert methods.build(load_config("combogan_mnist"), _data(size=32)).lambda_cycle == 10.0
    with pytest.raises(ConfigError, match="2\\+ unpaired domains"):
        methods.build(tiny_combogan(), DataInfo({"image_a": ArraySpec((16, 16, 1), "float32")}))
    mixed = DataInfo({"image_a": ArraySpec((16, 16, 1), "float32"), "image_b": ArraySpec((16, 16, 3), "float32")})
    with pytest.raises(ConfigError, match="differ in shape"):
        methods.build(tiny_combogan(), mixed)
    config = tiny_combogan()
    config.model.encoder.norm = "batch"
    with pytest.raises(ConfigError, match="running statistics"):
        jax.eval_shape(methods.build(config, _data()).init, jax.random.PRNGKey(0), _data().example(2))


# --- The pair --------------------------------------------------------------------------------------------

def test_pair_is_distinct_uniform_and_a_function_of_key_and_step():
    rng = jax.random.PRNGKey(3)
    pairs = [tuple(int(v) for v in domain_pair(rng, s, 4)) for s in range(600)]
    assert all(a != b and 0 <= a < 4 and 0 <= b < 4 for a, b in pairs)
    counts = {p: pairs.count(p) for p in itertools.permutations(range(4), 2)}
    assert min(counts.values()) >= 25 and max(counts.values()) <= 75  # 12 pairs, 50 expected each.
    assert [tuple(int(v) for v in domain_pair(rng, s, 4)) for s in range(5)] == pairs[:5]
    # By hand from the documented draw: a ~ U{0..3}, b = (a + 1 + k) mod 4, k ~ U{0..2}.
    key_a, key_k = jax.random.split(jax.random.fold_in(jax.random.fold_in(rng, 7), 0x436F6D62))
    a = int(jax.random.randint(key_a, (), 0, 4))
    assert pairs[7] == (a, (a + 1 + int(jax.random.randint(key_k, (), 0, 3))) % 4)


# --- Losses by hand ------------------------------------------------------------------------------------------

class ProbeD(nn.Module):
    """D_i(x) = s_i mean(x): the scale says which domain's D judged, the mean which images."""

    @nn.compact
    def __call__(self, x, *, train):
        return (self.param("scale", nn.initializers.ones, ()) * x.mean(axis=(1, 2, 3)))[:, None, None, None]


SCALES = (1.0, 2.0, 3.0, 5.0)
REAL = (0.1, 0.2, 0.3, 0.4)


def _state(step, d_params, method_state):
    side = Side(params=d_params, collections={}, opt_state=None)
    return GANState(step=jnp.asarray(step, jnp.int32), rng=jax.random.PRNGKey(11), generator=side, discriminator=side,
                    ema_params=None, method_state=method_state, nonfinite_steps=jnp.zeros((), jnp.int32))


def _probe_setup(pool_size):
    method = dataclasses.replace(methods.build(tiny_combogan(), _data()), discriminator=ProbeD(), pool_size=pool_size)
    d_params = {f"discriminator_{i}": {"scale": jnp.asarray(s)} for i, s in enumerate(SCALES)}
    batch = {f"image_{l}": jnp.full((2, 4, 4, 1), v) for l, v in zip(LETTERS, REAL)}
    generated = {k: jnp.full((2, 4, 4, 1), v) for k, v in (("fake_a", -0.5), ("fake_b", 0.6), ("rec_a", 0.0),
                                                           ("rec_b", 0.9))}
    return method, d_params, batch, generated


@pytest.mark.parametrize("step", [0, 1, 2])
def test_losses_by_hand_with_probe_ds(step):
    """No pool. With (a, b) the step's pair: loss_D = 2 (1/2 [1/2 (D_b(x_b) - 1)^2 + 1/2 D_b(fake_b)^2]
    + the same for D_a on x_a, fake_a); loss_G = 2 [1/2 (D_b(fake_b) - 1)^2 + 1/2 (D_a(fake_a) - 1)^2]
    + 10 |rec_a - x_a| + 10 |rec_b - x_b|."""
    method, d_params, batch, generated = _probe_setup(0)
    state = _state(step, d_params, {})
    a, b = (int(v) for v in domain_pair(state.rng, step, 4))
    d_loss, (metrics, _, new_state) = method.discriminator_loss(d_params, state, batch, generated, None)
    r_a, f_a = SCALES[a] * REAL[a], SCALES[a] * -0.5
    r_b, f_b = SCALES[b] * REAL[b], SCALES[b] * 0.6
    d_a, d_b = 0.5 * (0.5 * (r_a - 1) ** 2 + 0.5 * f_a ** 2), 0.5 * (0.5 * (r_b - 1) ** 2 + 0.5 * f_b ** 2)
    np.testing.assert_allclose(d_loss, 2 * (d_a + d_b), rtol=1e-5)
    assert (float(metrics["domain_a"]), float(metrics["domain_b"])) == (a, b) and new_state == {}
    g_loss, (g_metrics, _) = method.generator_loss(generated, state, batch, None)
    cycle = 10 * abs(0.0 - REAL[a]) + 10 * abs(0.9 - REAL[b])
    np.testing.assert_allclose(g_loss, 2 * (0.5 * (f_b - 1) ** 2 + 0.5 * (f_a - 1) ** 2) + cycle, rtol=1e-5)
    np.testing.assert_allclose(g_metrics["cycle_b"], 10 * abs(0.9 - REAL[b]), rtol=1e-5)


def test_each_d_sees_its_domains_pool_and_only_the_pairs_pools_change():
    """Full pools of 2 (pool i stores the value 0.15 + 0.2 i): D_a's fake input is pool_a's answer for fake_a,
    D_b's pool_b's for fake_b; the pools of the other two domains come back bit for bit."""
    method, d_params, batch, generated = _probe_setup(2)
    generated["fake_b"] = generated["fake_b"] + jnp.asarray([0.0, 0.01])[:, None, None, None]

    def full(i):
        pool = image_pool.init(2, (4, 4, 1), jax.random.PRNGKey(20 + i))
        return {**pool, "images": jnp.full((2, 4, 4, 1), 0.15 + 0.2 * i), "count": jnp.asarray(2, jnp.int32)}

    pools = {f"pool_{i}": full(i) for i in range(4)}
    state = _state(0, d_params, pools)
    a, b = (int(v) for v in domain_pair(state.rng, 0, 4))
    seen_a, pool_a = image_pool.query(pools[f"pool_{a}"], generated["fake_a"])
    seen_b, pool_b = image_pool.query(pools[f"pool_{b}"], generated["fake_b"])
    # The pools swapped images (keys chosen so), so the logits below differ from those of the unpooled fakes.
    assert not np.allclose(seen_a, generated["fake_a"]) and not np.allclose(seen_b, generated["fake_b"])
    _, (metrics, _, new_state) = method.discriminator_loss(d_params, state, batch, generated, None)
    np.testing.assert_allclose(metrics["d_a_fake_logit"], SCALES[a] * float(seen_a.mean()), rtol=1e-6)
    np.testing.assert_allclose(metrics["d_b_fake_logit"], SCALES[b] * float(seen_b.mean()), rtol=1e-6)
    expected = {**pools, f"pool_{a}": pool_a, f"pool_{b}": pool_b}
    jax.tree.map(np.testing.assert_array_equal, new_state, expected)


# --- The optimizer -------------------------------------------------------------------------------------------

def test_per_network_optimizer_by_hand():
    """SGD with a rate 1 - 0.1 t scheduled on the side's update t: n1's gradient is zero in updates 0 and 1
    (no update, state kept), then 1 in update 2, where its rate is the global 0.8 (not its own first 1.0).
    Adam keeps a count per network: n0's reaches 3, n1's 1."""
    schedule = lambda t: 1.0 - 0.1 * t  # noqa: E731
    params = {"n0": jnp.asarray([1.0]), "n1": jnp.asarray([1.0])}
    tx = per_network(optax.inject_hyperparams(optax.sgd)(learning_rate=schedule))
    state = tx.init(params)
    grads = [{"n0": jnp.asarray([1.0]), "n1": jnp.asarray([0.0])}] * 2 + [{"n0": jnp.asarray([1.0]),
                                                                            "n1": jnp.asarray([1.0])}]
    n1_states = []
    for g in grads:
        updates, state = tx.update(g, state, params)
        n1_states.append(state.networks["n1"])
        params = optax.apply_updates(params, updates)
    np.testing.assert_allclose(params["n0"], 1 - (1.0 + 0.9 + 0.8), rtol=1e-6)
    np.testing.assert_allclose(params["n1"], 1 - 0.8, rtol=1e-6)
    jax.tree.map(np.testing.assert_array_equal, n1_states[0], n1_states[1])
    adam = per_network(optax.adam(0.1))
    state = adam.init(params)
    for g in grads:
        _, state = adam.update(g, state, params)
    assert [int(state.networks[k][0].count) for k in ("n0", "n1")] == [3, 1]


# --- The step --------------------------------------------------------------------------------------------------

def test_one_forward_per_step(trainer):
    """E and G 4 times each (x_a, x_b and the two fakes); D 2 times on G's side, 4 on D's."""
    calls = []

    def count(next_fun, args, kwargs, context):
        if context.method_name == "__call__" and type(context.module).__name__ in (
                "ResNetEncoder", "ResNetDecoder", "PatchGANDiscriminator"):
            calls.append(type(context.module).__name__)
        return next_fun(*args, **kwargs)

    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}
    step = make_train_step(trainer.method, discriminator_tx=optax.sgd(0.1), generator_tx=optax.sgd(0.1))
    with nn.intercept_methods(count):
        jax.eval_shape(step, trainer.state, batch)
    assert sorted(calls) == ["PatchGANDiscriminator"] * 6 + ["ResNetDecoder"] * 4 + ["ResNetEncoder"] * 4


def test_translate_is_decoder_of_target_after_encoder_of_source(trainer):
    method, variables = trainer.method, trainer.state.generator_variables()
    x = jnp.asarray(trainer.pipeline.local_batch(0)["image_c"][:2])
    p = variables["params"]
    by_hand = method.decoder.apply({"params": p["decoder_0"]},
                                   method.encoder.apply({"params": p["encoder_2"]}, x, train=False), train=False)
    np.testing.assert_allclose(method.translate(variables, x, None, source=2, target=0), by_hand, atol=1e-6)
    assert float(jnp.abs(method.translate(variables, x, None, source=2, target=1) - by_hand).mean()) > 1e-5
    with pytest.raises(ConfigError, match="not a domain"):
        method.translate(variables, x, None, source=4, target=0)


def test_real_steps_change_only_the_drawn_pairs_networks(trainer):
    """Two compiled steps (last in this module: it trains the shared trainer). After each, the networks of
    the step's pair (and their optimizer states) changed, every other network's params and optimizer
    state are bit-identical, Adam's count of a network is its number of updates, and only the pair's pools
    filled."""
    updates = {i: 0 for i in range(4)}
    for _ in range(2):
        before = jax.device_get(trainer.state)
        a, b = (int(v) for v in domain_pair(before.rng, before.step, 4))
        metrics = jax.device_get(trainer.train_steps(1))
        after = jax.device_get(trainer.state)
        assert (float(metrics["d/domain_a"]), float(metrics["d/domain_b"])) == (a, b)
        updates[a] += 1
        updates[b] += 1
        for side, names in (("generator", ("encoder", "decoder")), ("discriminator", ("discriminator",))):
            old, new = getattr(before, side), getattr(after, side)
            for name, i in itertools.product(names, range(4)):
                key = f"{name}_{i}"
                same = [np.array_equal(x, y) for x, y in zip(jax.tree.leaves((old.params[key], old.opt_state.networks[key])),
                                                             jax.tree.leaves((new.params[key], new.opt_state.networks[key])))]
                assert all(same) if i not in (a, b) else not any(same[:len(jax.tree.leaves(old.params[key]))]), key
                counts = [s.count for s in jax.tree.leaves(new.opt_state.networks[key],
                                                           is_leaf=lambda s: isinstance(s, optax.ScaleByAdamState))
                          if isinstance(s, optax.ScaleByAdamState)]
                assert [int(c) for c in counts] == [updates[i]], key
        for i in range(4):
            filled = int(after.method_state[f"pool_{i}"]["count"])
            assert filled == min(6, trainer.config.train.batch_size * updates[i])  # Pools of 6.


def test_paper_size_step_traced():
    """configs/combogan_paper.py with 4 domains of 256x256, batch 1, shapes only: 4 x 11,378,179 generator
    parameters (4 encoders + 4 decoders) and a step whose metrics are scalars."""
    config = load_config("combogan_paper")
    data = _data(4, 256, 3)
    method = methods.build(config, data)
    g_tx, d_tx = optim.build_pair(config, method)
    state = jax.eval_shape(functools.partial(train_lib.init_state, method, config, g_tx, d_tx), data.example(1))
    assert sum(p.size for p in jax.tree.leaves(state.generator.params)) == 4 * 11_378_179
    new_state, metrics = jax.eval_shape(make_train_step(method, discriminator_tx=d_tx, generator_tx=g_tx),
                                        state, data.example(1))
    assert all(m.shape == () for m in metrics.values())
    assert jax.tree.structure(new_state) == jax.tree.structure(state)
