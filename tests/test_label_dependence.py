"""Every conditional generator's output depends on its label (the failure benchmarks/RESULTS.md reports
for the DCGAN generator with conditional batch norm: a G that ignores y).

For the same noise z and each of the K labels, the label effect is the mean absolute difference between
G(z, y) and G(z, y') over pairs of labels, compared with the noise effect, the mean difference between
G(z, y) and G(z', y). A generator that ignores its label has a label effect of exactly 0; we ask for
at least 3% of the noise effect (the LC actor passes (1 - gate) z through unchanged, so its noise effect
is large; at initialisation its label effect is about 9% of it). Checked at initialisation and after
perturbing every parameter (so that a dependence that only exists at the initial values, or only
appears after training, is caught); a negative control (the same generator handed a constant label)
checks that the check fails for a generator that ignores its label.
Conditional batch norm starts at gamma_y = 1, beta_y = 0 for every class (Miyato & Koyama 2018), so
the CBN generators ignore y at initialisation, exactly: that is checked as a known answer too.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import networks

K = 4
SHAPE = (8, 8, 1)
LATENT = 5


STACKGAN = dict(condition_dim=2, stage1_features=(4, 3), stage2_features=2, residual_blocks=1)

# name -> (network name, hyper-parameters, CBN: ignores y at initialisation).
GENERATORS = {
    "mlp": ("mlp_generator", dict(noise_units=8, label_units=8, hidden_units=16), False),
    "dcgan_concat": ("dcgan_generator", dict(features=(8, 4), embed_dim=4, conditioning="concat"), False),
    "dcgan_cbn": ("dcgan_generator", dict(features=(8, 4), conditioning="cbn"), True),
    "resnet": ("resnet_generator", dict(features=(4, 3)), True),
    "stackgan": ("stackgan_generator", STACKGAN, False),  # Both stages' images, s_0 and s_1.
}


def effects(generate, variables, z_dim: int):
    """(label effect, noise effect) of ``generate(variables, z, labels)`` over 3 noise draws; for a
    generator of several images (StackGAN's two stages), the smaller effect over its images."""
    z = jax.random.normal(jax.random.PRNGKey(1), (3, z_dim))
    # outputs[i, y]: G(z_i, y); one batch of 3 K examples (every network here is per example in inference).
    zs = jnp.repeat(z, K, axis=0)
    labels = jnp.tile(jnp.arange(K), 3)
    label, noise = [], []
    for out in jax.tree.leaves(generate(variables, zs, labels)):
        out = np.asarray(out, np.float64).reshape((3, K, -1))
        label.append(np.mean([np.abs(out[:, a] - out[:, b]).mean() for a in range(K) for b in range(a + 1, K)]))
        noise.append(np.mean([np.abs(out[a] - out[b]).mean() for a in range(3) for b in range(a + 1, 3)]))
    return min(label), min(noise)


def perturb(variables, seed: int = 2):
    """Every parameter plus Gaussian noise of a tenth of its tensor's spread (0.1 where the tensor is
    constant, as CBN's gamma = 1 and beta = 0 tables at initialisation)."""
    rng = np.random.default_rng(seed)
    noisy = jax.tree.map(lambda x: x + 0.1 * (float(np.std(x)) or 1.0) * rng.normal(size=x.shape).astype(np.float32),
                         jax.device_get(variables["params"]))
    return {**variables, "params": noisy}


def _network(name):
    net_name, kwargs, cbn = GENERATORS[name]
    g = networks.build(net_name, num_classes=K, image_shape=SHAPE, **kwargs)
    z_dim = g.noise_dim(LATENT) if net_name == "stackgan_generator" else LATENT
    variables = jax.jit(functools.partial(g.init, train=False))(jax.random.PRNGKey(0), jnp.zeros((2, z_dim)),
                                                                jnp.arange(2))

    @jax.jit
    def generate(variables, z, labels):
        out = g.apply(variables, z, labels, train=False)
        return out[:2] if net_name == "stackgan_generator" else out  # StackGAN: (s_0, s_1).

    return generate, dict(variables), z_dim, cbn


def _ignoring_labels(generate):
    """The same generator, handed label 0 whatever the label: the negative control."""
    return lambda variables, z, labels: generate(variables, z, jnp.zeros_like(labels))


def assert_uses_label(generate, variables, z_dim):
    label, noise = effects(generate, variables, z_dim)
    assert noise > 1e-3, noise  # The comparison is with a generator that responds to its noise.
    assert label > 0.03 * noise, (label, noise)
    # Negative control: the check fails for the same generator fed a constant label.
    ignored, _ = effects(_ignoring_labels(generate), variables, z_dim)
    assert ignored == 0.0


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generator_output_depends_on_the_label(name):
    generate, variables, z_dim, cbn = _network(name)
    if cbn:  # gamma_y = 1, beta_y = 0 for every y at initialisation: the same image for every label.
        label, noise = effects(generate, variables, z_dim)
        assert label == 0.0 and noise > 1e-3
    else:
        assert_uses_label(generate, variables, z_dim)
    assert_uses_label(generate, perturb(variables), z_dim)


def test_latent_constraints_actor_and_its_samples_depend_on_the_label():
    """The actor's output z' = G(z, c) and the decoded sample decode(G(z, c))."""
    actor = networks.build("vae_actor", num_classes=K, latent_dim=LATENT, image_shape=SHAPE, encoder_units=(8,),
                           decoder_units=(8,), actor_units=(8, 8), label_units=4)
    variables = dict(jax.jit(functools.partial(actor.init, method="init_all"))(
        jax.random.PRNGKey(0), jnp.zeros((2,) + SHAPE), jnp.zeros((2, LATENT)), jnp.arange(2)))
    move = jax.jit(lambda v, z, y: actor.apply(v, z, y, method="move")[0])
    sample = jax.jit(actor.apply)
    for generate in (move, sample):
        assert_uses_label(generate, variables, LATENT)
        assert_uses_label(generate, perturb(variables), LATENT)
