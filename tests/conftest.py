"""Test setup: eight simulated CPU devices, so data-parallel code is exercised on CPU.

Must run before JAX initialises its backend (conftest is imported first).
"""

import os
import subprocess
import sys
import tempfile

# A persistent compilation cache for this test session (and the commands its tests start, which
# inherit the environment): the resume tests compile each step twice (two Trainers), and many tests
# compile the same tiny programs; a hit returns the same executable, so no result changes. One folder
# per test run under the system's temporary folder, named after the process that imports this file
# first: pytest's main process, whose environment its pytest-xdist workers inherit, so they share it
# (a tiny config's programs compile once, in whichever worker needs them first). No size limit: a
# limit turns on JAX's LRU eviction, which locks the folder and lists it on every write (a run writes
# ~5,000 entries; the suite ran minutes slower with it). An entry read while the other worker still
# writes it fails to deserialise, and JAX then warns and compiles instead.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      os.path.join(tempfile.gettempdir(), f"jaxgan-tests-compilation-cache-{os.getpid()}"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

# XLA:CPU's LLVM backend at -O0 for every program the tests compile, here and in the commands they start
# (`subprocess_env`). The suite compiles thousands of programs and runs most for a few steps, so
# compiling is most of its time: at -O0 SPADE's tiny initialisation compiles in 14 s instead of 24 s, and
# test_reliability + test_pix2pix + test_examples ran in 291 s instead of 394 s (2026-12-02, benchmarks/
# RESULTS.md). XLA's own passes (fusion, layouts, the convolution library calls) are unchanged, so the
# programs do the same operations; only LLVM's code for the fused loops is unoptimised, which may change
# floating-point results in their last bits. Users' runs keep XLA's default level.
#
# And XLA:CPU's older LLVM IR fusion emitters instead of its MLIR ones, where this jaxlib's XLA still has
# the switch: the same operations (a scatter becomes a loop), compiled in 19-36% less CPU time on three
# exact-resume tests (SPADE, UNIT, ComboGAN; 2026-12-03, benchmarks/RESULTS.md). XLA aborts the process on
# a flag it does not know, so a child process tries it first, once per test run (the pytest-xdist workers
# inherit the answer). A test of what XLA:CPU makes of a program for users compiles it with
# ``USERS_COMPILER_OPTIONS`` (the new emitters).
LEGACY_EMITTERS = "--xla_cpu_use_fusion_emitters=false"


def _xla_flags() -> str:
    flags = "--xla_backend_optimization_level=0"
    probe = subprocess.run([sys.executable, "-c", "import jax; jax.devices()"], capture_output=True,
                           env={**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": LEGACY_EMITTERS})
    return f"{flags} {LEGACY_EMITTERS}" if probe.returncode == 0 else flags


if "JAXGAN_TEST_XLA_FLAGS" not in os.environ:
    os.environ["JAXGAN_TEST_XLA_FLAGS"] = _xla_flags()
TEST_XLA_FLAGS = os.environ["JAXGAN_TEST_XLA_FLAGS"]
USERS_COMPILER_OPTIONS = {"xla_cpu_use_fusion_emitters": True} if LEGACY_EMITTERS in TEST_XLA_FLAGS else {}
if TEST_XLA_FLAGS not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {TEST_XLA_FLAGS}".strip()

import chex  # noqa: E402

os.environ.setdefault("JAX_PLATFORMS", "cpu")
chex.set_n_cpu_devices(8)


import importlib.util  # noqa: E402
import pathlib  # noqa: E402

import pytest  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def subprocess_env(devices: int = 1, **extra) -> dict:
    """The environment of a command a test starts: CPU with ``devices`` devices (one, like a laptop, unless
    the test needs more) and the tests' compiler flags."""
    device_flag = f" --xla_force_host_platform_device_count={devices}" if devices > 1 else ""
    return {**os.environ, "JAX_PLATFORMS": "cpu", "XLA_FLAGS": TEST_XLA_FLAGS + device_flag, **extra}


def load_config(name: str, variant: str = ""):
    """Loads ``configs/NAME.py`` the way ``jaxgan.main`` does, unlocked for the test to shrink."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "configs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.get_config(variant) if variant else module.get_config()


def tiny(config, *, steps: int = 3, batch_size: int = 16):
    """Shrinks a config's schedule for tests (networks are shrunk by the caller)."""
    config.train.steps = steps
    config.train.batch_size = batch_size
    config.train.log_every = 1
    config.train.sample_every = steps
    config.train.checkpoint_every = steps
    config.sample.per_class = 2
    return config


def tiny_cgan(kind: str = "mlp"):
    """The real cgan configs with tiny networks: 'mlp' (Mirza & Osindero) or 'dcgan' (+ LSGAN)."""
    if kind == "mlp":  # Adam: the paper's SGD (learning rate 0.1) is tiny_cgan_paper_sgd's.
        config = load_config("cgan_mnist", "adam")
        # Flax's initialisation: pylearn2's U(-0.05, 0.05) suits 1,200-unit layers and leaves these
        # 8-unit ones' outputs at ~1e-4 (tests/test_mlp_cgan.py tests the paper's ranges).
        config.model.generator.update(dict(noise_units=8, label_units=8, hidden_units=16, init_range=0.0))
        config.model.discriminator.update(dict(image_units=8, label_units=4, hidden_units=8, init_range=0.0))
    else:
        config = load_config("cgan_dcgan_mnist")
        config.model.generator.features = (8, 4)
        config.model.discriminator.features = (4, 8)
        config.model.generator.embed_dim = 4
        config.model.discriminator.embed_dim = 4
    config.model.latent_dim = 8
    return tiny(config)


@pytest.fixture
def cgan_config():
    return tiny_cgan


def tiny_config(name: str, variant: str = "", *, steps: int = 3, batch_size: int = 16):
    """Any DCGAN-based config (``configs/NAME.py[:variant]``) with tiny networks, keeping its
    conditioning, normalisation and loss options."""
    config = load_config(name, variant)
    config.model.generator.features = (8, 4)
    config.model.discriminator.features = (4, 8)
    for net in (config.model.generator, config.model.discriminator):
        if "embed_dim" in net:
            net.embed_dim = 4
    config.model.latent_dim = 8
    return tiny(config, steps=steps, batch_size=batch_size)


def tiny_stackgan(*, steps: int = 3, batch_size: int = 16):
    """configs/stackgan_mnist.py with tiny networks (both stages, both discriminators)."""
    config = load_config("stackgan_mnist")
    config.model.latent_dim = 3
    config.model.generator.update(dict(condition_dim=2, stage1_features=(4, 3), stage2_features=2,
                                       residual_blocks=1))
    config.model.discriminator.update(dict(condition_dim=2, stage1_features=(2,), stage2_features=(2, 3)))
    return tiny(config, steps=steps, batch_size=batch_size)


def tiny_latent_constraints(*, steps: int = 3, vae_steps: int = 1, batch_size: int = 16):
    """configs/latent_constraints_mnist.py with tiny MLPs; the first ``vae_steps`` updates train the VAE."""
    config = load_config("latent_constraints_mnist")
    config.model.latent_dim = 4
    config.model.vae_steps = vae_steps
    config.model.generator.update(dict(encoder_units=(8,), decoder_units=(8,), actor_units=(8, 8), label_units=4))
    config.model.discriminator.update(dict(units=(8, 8), label_units=4, attribute_units=(8,)))
    return tiny(config, steps=steps, batch_size=batch_size)


def tiny_cgan_paper_sgd():
    """The tiny MLP cGAN with the paper's SGD (decaying learning rate, momentum ramp): a schedule
    whose position lives in the optimizer state."""
    config = tiny_cgan("mlp")
    config.optimizer = load_config("cgan_mnist").optimizer
    return config


def tiny_cgan_matching():
    """The tiny MLP cGAN as ``configs/cgan_mnist.py:matching`` trains it: the paper's SGD, a matching-aware D
    (real images with wrong labels as a third pair, at the variant's mismatch weight) and an EMA of G."""
    config = tiny_cgan_paper_sgd()
    matching = load_config("cgan_mnist", "matching")
    config.method = matching.method
    config.model.discriminator_structure = matching.model.discriminator_structure
    config.loss.mismatch_weight = matching.loss.mismatch_weight
    config.train.ema_decay = matching.train.ema_decay
    return config


def tiny_pix2pix(*, steps: int = 3, batch_size: int = 8, variant: str = ""):
    """configs/pix2pix_mnist_edges.py (edges -> digit, resized to 32x32) with a 5-level U-Net and a
    1-layer PatchGAN, 2 filters at the first level of each."""
    config = load_config("pix2pix_mnist_edges", variant)
    config.model.generator.features = 2
    config.model.discriminator.update(dict(features=2, n_layers=1))
    config = tiny(config, steps=steps, batch_size=batch_size)
    config.sample.examples = 2
    return config


def tiny_context_encoder(*, steps: int = 3, batch_size: int = 8, variant: str = ""):
    """configs/context_encoder_mnist.py (28x28 centre hole) with 2- and 4-filter encoder layers (a 7x7
    channel-wise bottleneck of 4 maps) and a 2-layer D of 2 and 4 filters."""
    config = load_config("context_encoder_mnist", variant)
    config.model.generator.update(dict(encoder_features=(2, 4), decoder_features=(2,)))
    config.model.discriminator.features = (2, 4)
    config = tiny(config, steps=steps, batch_size=batch_size)
    config.sample.examples = 2
    return config


def tiny_srgan(*, steps: int = 3, batch_size: int = 8, variant: str = ""):
    """configs/srgan_mnist.py (7x7 -> 28x28) with a 1-block SRResNet of 4 channels and a 1-stage D; the
    SRResNet pre-training phase is the first update (``pretrain_steps=1``; 0 for ``:srresnet``)."""
    config = load_config("srgan_mnist", variant)
    config.model.generator.update(dict(residual_blocks=1, features=4, upsample_features=8))
    config.model.discriminator.update(dict(stages=1, features=4, dense_features=4))
    config.model.pretrain_steps = min(config.model.pretrain_steps, 1)
    config = tiny(config, steps=steps, batch_size=batch_size)
    config.sample.examples = 2
    return config


def tiny_pix2pixhd(*, steps: int = 3, batch_size: int = 8):
    """configs/pix2pixhd_scenes.py at 32x32 with G1 + the local enhancer (2 filters, 1 residual block
    each) and 2 one-layer PatchGANs; only the local enhancer trains in the first update."""
    config = load_config("pix2pixhd_scenes")
    config.data.load_size = config.data.crop_size = 32
    config.model.generator.update(dict(features=2, n_downsampling=1, n_blocks=1, n_local_enhancers=1,
                                       n_blocks_local=1))
    config.model.discriminator.update(dict(features=2, n_layers=1))
    config.model.niter_fix_global = 1
    config = tiny(config, steps=steps, batch_size=batch_size)
    for side in ("generator", "discriminator"):
        config.optimizer[side].decay_start = 1
    config.sample.examples = 2
    return config


def tiny_projection():
    """configs/projection_mnist.py (ResNet CBN G, spectral-norm projection D, hinge) with tiny networks,
    keeping its n_critic > 1 and both Adam rates' linear decay to 0; n_critic = 2 (the paper: 5) so that
    4 steps update G twice."""
    config = tiny_config("projection_mnist", batch_size=8)
    config.train.n_critic = 2
    return config


def tiny_fader(*, steps: int = 3, batch_size: int = 8):
    """configs/fader_mnist.py at 16x16: 3 encoder blocks of 2, 4, 8 filters to a 2x2 code, a latent
    discriminator of 4 filters and 4 hidden units; lambda_E ramps over the first 2 steps."""
    config = load_config("fader_mnist")
    config.data.load_size = config.data.crop_size = 16
    config.model.generator.update(dict(features=2, max_features=8, layers=3))
    config.model.discriminator.update(dict(features=4, hidden=4))
    config.loss.lambda_latent_ramp_steps = 2
    config = tiny(config, steps=steps, batch_size=batch_size)
    config.sample.examples = 2
    return config


def tiny_dtn(*, steps: int = 3, batch_size: int = 8):
    """configs/dtn_mnist.py (28x28, the shipped MNIST classifier as f) with g of widths 4, 2, 2 and a
    2-layer D of 2 and 4 filters."""
    config = load_config("dtn_mnist")
    config.model.generator.features = (4, 2, 2)
    config.model.discriminator.features = (2, 4)
    config = tiny(config, steps=steps, batch_size=batch_size)
    config.sample.examples = 2
    return config


def tiny_combogan(*, steps: int = 3, batch_size: int = 8):
    """configs/combogan_mnist.py (4 domains) at 16x16: encoders (no residual block) and decoders (1) of 2
    filters, 1-layer PatchGANs of 2 filters, pools of 6 per domain, a constant rate then linear decay."""
    config = load_config("combogan_mnist")
    config.data.load_size = config.data.crop_size = 16
    config.model.encoder.update(dict(features=2, blocks=0))
    config.model.decoder.update(dict(features=2, blocks=1))
    config.model.discriminator.update(dict(features=2, n_layers=1))
    config.model.pool_size = 6
    config = tiny(config, steps=steps, batch_size=batch_size)
    for side in ("generator", "discriminator"):
        config.optimizer[side].decay_start = 1
    config.sample.examples = 2
    return config


def tiny_cyclegan(*, steps: int = 3, batch_size: int = 8):
    """configs/cyclegan_mnist.py at 16x16 with a 1-block ResNet translator of 2 filters, 1-layer
    PatchGANs of 2 filters and pools of 6 images: a batch of 8 fills them and its last 2 images meet
    the swap phase."""
    config = load_config("cyclegan_mnist")
    config.data.load_size = config.data.crop_size = 16
    config.model.generator.update(dict(features=2, blocks=1))
    config.model.discriminator.update(dict(features=2, n_layers=1))
    config.model.pool_size = 6
    config = tiny(config, steps=steps, batch_size=batch_size)
    config.sample.examples = 2
    return config


def tiny_discogan_code(*, steps: int = 3, batch_size: int = 8):
    """configs/discogan_mnist.py:code at 16x16: a 2-level encoder-decoder and a 2-layer DCGAN D (one logit) of
    2 filters; D updates on every second step (n_generator 2), the rate moves from 0.01 to 0.5 after step 2."""
    config = load_config("discogan_mnist", "code")
    config.data.load_size = config.data.crop_size = 16
    config.model.generator.update(dict(features=2, layers=2))
    config.model.discriminator.update(dict(features=2, n_layers=2))
    config.loss.gan_curriculum = 2
    config = tiny(config, steps=steps, batch_size=batch_size)
    config.sample.examples = 2
    return config


def tiny_stargan(*, steps: int = 3, batch_size: int = 8, variant: str = ""):
    """configs/stargan_mnist.py[:variant] at 16x16 with a 1-block G of 2 filters and a 2-layer D of 2
    filters; n_critic 2 (3 with the mask vector's 2 datasets; the paper: 5), so 3 steps update G once;
    both rates decay linearly from the first update."""
    config = load_config("stargan_mnist", variant)
    config.data.load_size = config.data.crop_size = 16
    config.model.generator.update(dict(features=2, residual_blocks=1))
    config.model.discriminator.update(dict(features=2, layers=2))
    config = tiny(config, steps=steps, batch_size=batch_size)
    config.train.n_critic = 3 if variant == "mask_vector" else 2  # Coprime to the 2 datasets' alternation.
    for side in ("generator", "discriminator"):
        config.optimizer[side].decay_start = 0
    config.sample.examples = 2
    return config


def tiny_spade(*, steps: int = 3, batch_size: int = 8):
    """configs/spade_scenes.py:vae at 32x32: SPADE generator of widths 32 .. 2 (ngf 2) with SPADE hidden
    width 4, a 3-layer style encoder (z_dim 4), 2 one-layer spectral-norm PatchGANs of 2 filters."""
    config = load_config("spade_scenes", "vae")
    config.data.load_size = config.data.crop_size = 32
    config.model.generator.update(dict(features=2, hidden=4))
    config.model.encoder.update(dict(features=2, n_layers=3, input_size=32))
    config.model.z_dim = 4
    config.model.discriminator.update(dict(features=2, n_layers=1))
    config = tiny(config, steps=steps, batch_size=batch_size)
    for side in ("generator", "discriminator"):
        config.optimizer[side].decay_start = 1
    config.sample.examples = 2
    return config


def tiny_unit(*, steps: int = 3, batch_size: int = 4):
    """configs/unit_mnist.py at 16x16: encoders and generators of width 2 whose one residual block each is
    the shared one, 3-scale Ds of one-layer PatchGANs of 2 filters; weight decay 1e-4 as the config."""
    config = load_config("unit_mnist")
    config.data.load_size = config.data.crop_size = 16
    config.model.generator.update(dict(features=2, blocks=1, shared_blocks=1))
    config.model.discriminator.update(dict(features=2, n_layers=1))
    config = tiny(config, steps=steps, batch_size=batch_size)
    config.sample.examples = 2
    return config


def tiny_xgan(*, steps: int = 3, batch_size: int = 4):
    """configs/xgan_mnist.py at 16x16: encoder widths 2, 4 (the second shared), an 8-d embedding, 1-layer
    PatchGANs of 2 filters, a c_dann of 4 hidden units; batch norm as the config."""
    config = load_config("xgan_mnist")
    config.data.load_size = config.data.crop_size = 16
    config.model.generator.update(dict(features=(2, 4), embedding_dim=8, shared_layers=1))
    config.model.discriminator.update(dict(features=2, n_layers=1))
    config.model.domain_classifier.update(dict(hidden=4))
    config = tiny(config, steps=steps, batch_size=batch_size)
    config.sample.examples = 2
    return config


def tiny_cogan(*, steps: int = 3, batch_size: int = 4, variant: str = "negative"):
    """configs/cogan_mnist.py[:variant] (28x28) with generator widths 8, 4, 4, 2 and discriminator widths 2,
    4, 8; weight decay 5e-4 and batch norm as the config."""
    config = load_config("cogan_mnist", variant)
    config.model.latent_dim = 8
    config.model.generator.features = (8, 4, 4, 2)
    config.model.discriminator.features = (2, 4, 8)
    config = tiny(config, steps=steps, batch_size=batch_size)
    config.sample.examples = 2
    return config


def module_calls(trainer, module_class, method_name: str = "__call__", update_generator: bool = True) -> int:
    """How many times one traced train step of ``trainer``'s method calls ``module_class.method_name``
    (SGD states on both sides; nothing is computed): 1 for a generator run once per step."""
    return len(called_modules(trainer, module_class, method_name, update_generator))


def called_modules(trainer, module_class, method_name: str = "__call__", update_generator: bool = True) -> list:
    """The names of the ``module_class`` instances (a class or a tuple of classes) whose ``method_name`` one
    traced train step of ``trainer``'s method calls, once per call (``module_calls``' trace)."""
    import flax.linen as nn
    import jax
    import jax.numpy as jnp
    import optax

    from jaxgan.train_step import make_train_step

    calls = []

    def count(next_fun, args, kwargs, context):
        if isinstance(context.module, module_class) and context.method_name == method_name:
            calls.append(context.module.name)
        return next_fun(*args, **kwargs)

    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}
    step = make_train_step(trainer.method, discriminator_tx=optax.sgd(0.1), generator_tx=optax.sgd(0.1))
    g, d = trainer.state.generator, trainer.state.discriminator
    state = trainer.state.replace(generator=g.replace(opt_state=optax.sgd(0.1).init(g.params)),
                                  discriminator=d.replace(opt_state=optax.sgd(0.1).init(d.params)))
    with nn.intercept_methods(count):
        jax.eval_shape(lambda s, b: step(s, b, update_generator), state, batch)
    return calls


def one_device_mesh():
    """A mesh of one device, for tests that run batch-1 steps (the 8 simulated devices need batches of 8)."""
    import jax
    import numpy as np
    from jax.sharding import Mesh

    return Mesh(np.asarray(jax.devices()[:1]), ("data",))


def probe_state(step: int = 0, method_state=None):
    """A GANState with empty sides, for calling a method's losses with parameter-free probe networks."""
    import jax
    import jax.numpy as jnp

    from jaxgan.state import GANState, Side

    side = Side(params={}, collections={}, opt_state=None)
    return GANState(step=jnp.asarray(step, jnp.int32), rng=jax.random.PRNGKey(0), generator=side,
                    discriminator=side, ema_params=None, method_state=method_state or {},
                    nonfinite_steps=jnp.zeros((), jnp.int32))


# Tiny configs that together cover every method and every kind of state a method carries, for tests
# that must hold for all of them (exact resume). A method added to jaxgan.methods.METHODS needs an
# entry here: tests/test_reliability.py fails until it has one. Each entry costs a cold compile.
TINY_CONFIGS = {
    "cgan_dcgan": lambda: tiny_cgan("dcgan"),  # Batch norm, EMA, Adam.
    "cgan_mlp_paper_sgd": tiny_cgan_paper_sgd,  # Dropout; learning-rate and momentum schedules.
    "cgan_mlp_matching": tiny_cgan_matching,  # The same with a matching-aware D and G's EMA.
    "acgan": lambda: tiny_config("acgan_mnist"),
    "matching_aware": lambda: tiny_config("matching_mnist"),
    # Two phases: the VAE for 1 update, then actor and critic (the resume test crosses the boundary).
    "latent_constraints": tiny_latent_constraints,
    "stackgan": tiny_stackgan,
    # n_critic > 1, linear decay over train.steps, spectral-norm vectors and CBN running statistics.
    "projection": tiny_projection,
    "pix2pix": tiny_pix2pix,  # Shared generator forward, D then G, U-Net dropout and batch norm.
    "pix2pixhd": tiny_pix2pixhd,  # G then D; label maps; local enhancer alone, then all of G (masked optimizer).
    "spade": tiny_spade,  # SPADE batch norm and spectral-norm state; style encoder and its z draw.
    "srgan": tiny_srgan,  # Shared forward; SRResNet phase then SRGAN (D's optimizer masked, then on).
    "context_encoder": tiny_context_encoder,  # Masks in the batch, channel-wise FC, D on completions.
    "cyclegan": tiny_cyclegan,  # Two generators and Ds, G first, image pools (keys) in the method state.
    # DiscoGAN's code: D on every second step (n_generator), feature matching, the rate switching at step 2.
    "discogan_code": tiny_discogan_code,
    "stargan": lambda: tiny_stargan(variant="mask_vector"),  # WGAN-GP, n_critic, datasets alternating by step.
    "fader": tiny_fader,  # D first, batch norm and dropout, lambda_E ramped by state.step, gradient clipping.
    "combogan": tiny_combogan,  # 4 domains, a pair drawn per step, per-network optimizer states, 4 pools.
    "dtn": tiny_dtn,  # D first, a frozen f inside the generator side (set_to_zero), ternary D.
    "unit": lambda: tiny_unit(batch_size=8),  # Shared encoder/generator layers, VAE noise from the step's key, D first.
    "cogan": lambda: tiny_cogan(batch_size=8),  # Pairs from noise only (no translate), shared layers, weight decay.
    "xgan": lambda: tiny_xgan(batch_size=8),  # Shared layers, D and c_dann first, batch norm on both sides.
}


RESUME_STEPS = 4  # test_resume_is_exact's run: 2 steps, a checkpoint, 2 more.


def resume_config(name: str):
    """``TINY_CONFIGS[name]`` as the exact-resume test trains it (``RESUME_STEPS`` steps)."""
    config = TINY_CONFIGS[name]()
    config.train.steps = RESUME_STEPS
    return config


def resume_trainer(name: str, workdir):
    """A Trainer of ``resume_config(name)`` on the default mesh (the 8 devices), as the exact-resume test
    builds it: its initialisation and train step are the programs that test compiles, so a method's own
    tests built on it find them in the suite's compilation cache (or leave them there) instead of
    compiling a second pair for another mesh, batch or schedule."""
    from jaxgan import train as train_lib

    return train_lib.Trainer(resume_config(name), str(workdir))


def diffaugment_calls(trainer, monkeypatch):
    """The DiffAugment policies applied while tracing D's loss and G's loss: (d_calls, g_calls)."""
    import jax
    import jax.numpy as jnp

    from jaxgan import augment

    calls, original = [], augment.diff_augment

    def spy(x, rng, policy):
        calls.append(policy)
        return original(x, rng, policy)

    monkeypatch.setattr(augment, "diff_augment", spy)
    batch = {k: jnp.asarray(v) for k, v in trainer.pipeline.local_batch(0).items()}
    state, rng, method = trainer.state, jax.random.PRNGKey(0), trainer.method
    if hasattr(method, "generator_forward"):  # The shared form: both losses take the step's generated images.
        generated, _ = jax.eval_shape(method.generator_forward, state.generator.params, state, batch, rng)
        d_args, g_args = (state.discriminator.params, state, batch, generated, rng), (generated, state, batch, rng)
    else:
        d_args, g_args = (state.discriminator.params, state, batch, rng), (state.generator.params, state, batch, rng)
    jax.eval_shape(method.discriminator_loss, *d_args)
    d_calls = list(calls)
    jax.eval_shape(method.generator_loss, *g_args)
    return d_calls, calls[len(d_calls):]
