"""The base config every config file starts from, and its validation.

A config file defines ``get_config()`` returning ``base_config()`` with its own
values. The config is locked by ``jaxgan.main``, so a misspelled override
(``--config.train.stpes=5``) is an error that names the key.
"""

from __future__ import annotations

from typing import Any, Callable, List, Tuple

import ml_collections

from jaxgan.errors import ConfigError
from jaxgan.precision import COMPUTE_DTYPES


def optimizer_config(**overrides: Any) -> ml_collections.ConfigDict:
    """One side's optimizer: Adam(lr, b1, b2), or SGD with momentum (see ``jaxgan.optim``)."""
    config = ml_collections.ConfigDict(dict(
        name="adam", learning_rate=2e-4, b1=0.5, b2=0.999,  # Adam as in DCGAN (Radford et al. 2016).
        momentum=0.0, final_momentum=0.0, momentum_steps=0,  # SGD momentum, ramped linearly.
        decay_factor=1.0, min_learning_rate=0.0,  # lr_t = max(lr / decay_factor^t, min_learning_rate).
        linear_decay=False,  # lr_t = lr * (1 - t / T): to 0 at the run's last update (train.steps).
        # With linear_decay: the rate stays lr for the side's first decay_start updates, then decays
        # linearly to 0 at the run's last update (junyanz's n_epochs then n_epochs_decay, in updates).
        decay_start=0,
        weight_decay=0.0,  # lambda: the optimizer sees g + lambda * theta (PyTorch's weight_decay; UNIT: 1e-4).
    ))
    config.update(overrides)
    return config


def base_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.method = "cgan"
    config.seed = 0

    config.data = ml_collections.ConfigDict(dict(
        source="builtin:mnist", split="train",
        # An image file that folder: or paired: sources cannot decode: 'error' names it (when the
        # source opens, or for pixel data cut short when its batch is read); 'skip' decodes every
        # file when the source opens and trains without the bad ones, counted in the checkpoints'
        # run info (data.skipped_images). Other sources ignore it.
        on_corrupt="error",
        # paired: and aligned: sources: 'AtoB' (input A, target B) or 'BtoA' (swapped), junyanz's
        # --direction (pytorch-CycleGAN-and-pix2pix; default AtoB).
        direction="AtoB",
        # Augmentation drawn from (seed, step, position in the batch), the same on both images of a
        # pair (jaxgan.data.transforms): resize to load_size x load_size, random crop_size crop,
        # left-right flip with p=1/2. 0/0/False = none. junyanz's pix2pix and CycleGAN use load 286,
        # crop 256, flip on (--load_size 286 --crop_size 256): their configs set these.
        load_size=0, crop_size=0, flip=False,
        # Threads that decode and transform the rows of a batch, and read the next step's batch in
        # the background (0: read in the training thread). Changes no value, only the speed.
        num_workers=0,
    ))

    config.model = ml_collections.ConfigDict()
    config.model.latent_dim = 100
    config.model.noise = "normal"
    config.model.generator = ml_collections.ConfigDict(dict(name="dcgan_generator"))
    config.model.discriminator = ml_collections.ConfigDict(dict(name="dcgan_discriminator"))

    config.loss = ml_collections.ConfigDict(dict(adversarial="non_saturating"))
    # DiffAugment policy on D's real and fake inputs (Zhao et al. 2020): '' (none) or a
    # comma-separated subset of 'color', 'translation', 'cutout'; see jaxgan.augment.
    config.loss.diffaugment = ""
    # Constraints on D (jaxgan.methods.penalties, jaxgan.optim); 0 turns each off. 'wasserstein' needs
    # gradient_penalty, weight_clip or model.discriminator.spectral_norm (see validate).
    config.loss.gradient_penalty = 0.0  # lambda of WGAN-GP (Gulrajani et al. 2017: 10).
    config.loss.r1 = 0.0  # gamma of R1, gamma/2 E||grad D(x)||^2 on real x (Mescheder et al. 2018).
    config.loss.weight_clip = 0.0  # c: D's params clipped to [-c, c] after each update (Arjovsky et al. 2017: 0.01).
    config.optimizer = ml_collections.ConfigDict(
        dict(generator=optimizer_config(), discriminator=optimizer_config()))

    config.train = ml_collections.ConfigDict(dict(
        # n_critic: D updates per G update (WGAN: 5); n_generator: G updates per D update (DiscoGAN's code: 2).
        steps=1000, batch_size=64, n_critic=1, n_generator=1, ema_decay=0.0,
        log_every=100, sample_every=1000, checkpoint_every=1000, keep_checkpoints=3,
        # A step whose loss or gradients are NaN/inf: 'stop' raises (the last good checkpoint is
        # kept, the batch is summarised in the workdir); 'skip' leaves that side's weights unchanged
        # and counts the step in the state (TensorBoard: train/nonfinite_steps).
        on_nonfinite="stop",
        # XLA:CPU only: True runs dots and convolutions in YNNPACK (XLA's default), False in XLA's own
        # Eigen kernels. The faster depends on the shapes (benchmarks/RESULTS.md, "YNNPACK or Eigen"):
        # CycleGAN's 256x256 ResNet generators step 1.8x faster with False. Ignored on GPU/TPU.
        cpu_ynnpack=True,
        # The networks' arithmetic in the train step: 'float32', or 'bfloat16' with float32 parameters,
        # optimizer state and losses (jaxgan.precision; for GPUs and TPUs, whose bf16 units are several
        # times faster). XLA:CPU runs convolutions no faster in bf16, even on a CPU with bf16 units (AMX),
        # but its matrix products (dense layers) ~4x faster there with cpu_ynnpack=True (benchmarks/RESULTS.md).
        compute_dtype="float32",
        # With compute_dtype='bfloat16': what the layers hand each other, 'float32' (a biased layer's and a
        # normalisation's outputs as they come, float32) or 'bfloat16' (every layer's output, as PyTorch's
        # autocast; half the memory traffic between layers). Statistics and bias gradients stay float32.
        activation_dtype="float32",
        # Train steps per compiled call (an unrolled lax.scan over their batches): one dispatch and host round trip
        # for k updates, for small models whose step is mostly launch overhead (an MLP on a GPU). A
        # multiple of n_critic and n_generator, dividing log_every, sample_every and checkpoint_every; 1: one step
        # per call.
        steps_per_call=1,
    ))
    # per_class: columns of a label-conditional grid; examples: rows (held-out inputs) of an
    # image-to-image panel.
    config.sample = ml_collections.ConfigDict(dict(per_class=10, examples=8, use_ema=True))
    config.eval = ml_collections.ConfigDict(dict(num_samples=10000, batch_size=1000))
    return config


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


Rule = Tuple[Callable[[Any], bool], str]
POSITIVE_INT: Rule = (lambda v: _is_int(v) and v >= 1, "must be a positive integer")
NON_NEGATIVE_INT: Rule = (lambda v: _is_int(v) and v >= 0, "must be an integer >= 0")
POSITIVE: Rule = (lambda v: _is_number(v) and v > 0, "must be > 0")
NON_NEGATIVE: Rule = (lambda v: _is_number(v) and v >= 0, "must be >= 0")
FRACTION: Rule = (lambda v: _is_number(v) and 0 <= v < 1, "must be in [0, 1)")
BOOL: Rule = (lambda v: isinstance(v, bool), "must be True or False")


def one_of(*values: str) -> Rule:
    return (lambda v: v in values, "must be one of " + ", ".join(map(repr, values)))


def _optimizer_rules(side: str) -> dict:
    p = f"optimizer.{side}."
    return {
        p + "name": one_of("adam", "sgd", "rmsprop"),
        p + "learning_rate": POSITIVE,
        p + "b1": FRACTION,
        p + "b2": FRACTION,
        p + "momentum": FRACTION,
        p + "final_momentum": FRACTION,
        p + "momentum_steps": NON_NEGATIVE_INT,
        p + "decay_factor": (lambda v: _is_number(v) and v >= 1, "must be >= 1 (1 = no decay)"),
        p + "min_learning_rate": NON_NEGATIVE,
        p + "linear_decay": BOOL,
        p + "decay_start": NON_NEGATIVE_INT,
        p + "weight_decay": NON_NEGATIVE,
    }


# Every engine-level value with a range, as dotted path -> (predicate, requirement). Method- and
# network-specific values (loss names, layer widths) are checked where they are used.
RULES = {
    "seed": NON_NEGATIVE_INT,
    **{f"loss.{k}": NON_NEGATIVE for k in ("gradient_penalty", "r1", "weight_clip")},
    "data.on_corrupt": one_of("error", "skip"),
    "data.direction": one_of("AtoB", "BtoA"),
    **{f"data.{k}": NON_NEGATIVE_INT for k in ("load_size", "crop_size", "num_workers")},
    "data.flip": BOOL,
    **{f"train.{k}": POSITIVE_INT for k in ("steps", "batch_size", "n_critic", "n_generator", "log_every",
                                             "sample_every", "checkpoint_every", "keep_checkpoints",
                                             "steps_per_call")},
    "train.ema_decay": (FRACTION[0], "must be in [0, 1) (0 disables the EMA)"),
    "train.on_nonfinite": one_of("stop", "skip"),
    "train.cpu_ynnpack": BOOL,
    "train.compute_dtype": one_of(*COMPUTE_DTYPES),
    "train.activation_dtype": one_of(*COMPUTE_DTYPES),
    **_optimizer_rules("generator"),
    **_optimizer_rules("discriminator"),
    "model.latent_dim": POSITIVE_INT,
    "sample.per_class": POSITIVE_INT,
    "sample.examples": POSITIVE_INT,
    "sample.use_ema": BOOL,
    "eval.num_samples": POSITIVE_INT,
    "eval.batch_size": POSITIVE_INT,
}


def _lookup(config: ml_collections.ConfigDict, path: str) -> Any:
    for key in path.split("."):
        config = config[key]
    return config


def _unconstrained_critic(config: ml_collections.ConfigDict) -> List[str]:
    """A Wasserstein critic must be Lipschitz (Arjovsky et al. 2017), or D's loss has no minimum: one
    problem when none of gradient penalty, weight clipping or spectral norm in D constrains it."""
    loss = config.get("loss", {})
    constraints = (loss.get("gradient_penalty", 0), loss.get("weight_clip", 0),
                   config.get("model", {}).get("discriminator", {}).get("spectral_norm", False))
    if loss.get("adversarial") != "wasserstein" or any(c > 0 if _is_number(c) else c for c in constraints):
        return []
    return ["loss.adversarial='wasserstein' needs a Lipschitz critic and nothing constrains D: set "
            "loss.gradient_penalty=10 (WGAN-GP, Gulrajani et al. 2017), loss.weight_clip=0.01 (WGAN, "
            "Arjovsky et al. 2017) or model.discriminator.spectral_norm=True (Miyato et al. 2018); "
            "loss.r1 alone penalises D only at real data and does not bound it"]


def _update_ratio(train: ml_collections.ConfigDict) -> List[str]:
    """n_critic > 1 updates G on a fraction of the steps, n_generator > 1 D: one side at a time."""
    n_critic, n_generator = train.get("n_critic", 1), train.get("n_generator", 1)
    if _is_int(n_critic) and _is_int(n_generator) and n_critic > 1 and n_generator > 1:
        return [f"train.n_critic={n_critic} and train.n_generator={n_generator}: set one of them to 1 (n_critic "
                "D updates per G update, as WGAN; or n_generator G updates per D update, as DiscoGAN's code)"]
    return []


def _steps_per_call(train: ml_collections.ConfigDict) -> List[str]:
    """Calls of k steps start at multiples of k, so every n_critic-th step (a G update) or n_generator-th
    step (a D update) falls at the same places in each call, and logs, grids and checkpoints, which need
    the state between steps, at call ends: k must be a multiple of n_critic and n_generator and divide
    the three intervals."""
    k = train.get("steps_per_call", 1)
    if not (_is_int(k) and k > 1):
        return []
    problems = []
    for name, side in (("n_critic", "G"), ("n_generator", "D")):
        n = train.get(name, 1)
        if _is_int(n) and n > 0 and k % n:
            problems.append(f"train.steps_per_call={k} must be a multiple of train.{name}={n} (each call "
                            f"updates {side} on the same steps); use e.g. {n * max(1, k // n)}")
    for name in ("log_every", "sample_every", "checkpoint_every"):
        every = train.get(name)
        if _is_int(every) and every > 0 and every % k:
            problems.append(f"train.{name}={every} must be a multiple of train.steps_per_call={k} (the state "
                            f"exists only between calls); use e.g. {k * max(1, every // k)}")
    return problems


def validate(config: ml_collections.ConfigDict) -> None:
    """Raises ConfigError listing every value of the wrong type or out of range (``RULES``), with the fix.

    All problems are reported at once, so a user fixes a config in one round trip."""
    problems: List[str] = []
    for path, (ok, requirement) in RULES.items():
        try:
            value = _lookup(config, path)
        except (KeyError, AttributeError):
            problems.append(f"{path} is missing; start the config from jaxgan.config.base_config()")
            continue
        if not ok(value):
            problems.append(f"{path}={value!r} {requirement}")
    problems += _unconstrained_critic(config)
    train = config.get("train", {})
    problems += _update_ratio(train) + _steps_per_call(train)
    if train.get("activation_dtype") == "bfloat16" and train.get("compute_dtype") != "bfloat16":
        problems.append("train.activation_dtype='bfloat16' needs train.compute_dtype='bfloat16' (the layers' "
                        f"products are in train.compute_dtype={train.get('compute_dtype')!r}); set both, or "
                        "leave activation_dtype='float32'")
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems)
                          + "\nFix these in the config file or override them, e.g. --config.train.steps=1000.")
