"""FID and KID in the features of the FID Inception network, for real images of any size.

The Frechet Inception Distance (Heusel et al. 2017) is the Frechet distance (``jaxgan.metrics.frechet``)
between Gaussians fitted to the 2048-d pool3 features of Inception-v3 (Szegedy et al. 2016) on two image
sets; the Kernel Inception Distance (Binkowski et al. 2018, "Demystifying MMD GANs", sec. 3) is the
unbiased squared MMD of the same features under the cubic polynomial kernel

    k(x, y) = (x . y / d + 1)^3,    d = 2048,
    KID = 1 / (m (m - 1)) sum_{i != j} [k(x_i, x_j) + k(y_i, y_j)] - 2 / m^2 sum_{i, j} k(x_i, y_j),

averaged over random subsets of m images of each set (``kernel_inception_distance``).

**The network and its weights.** :class:`FIDInception` is the network FID figures in papers come from:
TensorFlow's 2015-12-05 Inception graph of the original FID code, as pytorch-fid (Seitzer,
github.com/mseitzer/pytorch-fid) ports it: torchvision's Inception-v3 layout with its 3x3 average pools
not counting padded zeros, and a max pool in the last block's pooling branch. Its weights cannot be
downloaded at run time; make a ``.npz`` of pytorch-fid's weight file once, wherever torch is installed::

    # pt_inception-2015-12-05-6726825d.pth, from pytorch-fid's GitHub release 'fid_weights'
    # (or ~/.cache/torch/hub/checkpoints/ after pytorch-fid has run once)
    import numpy as np, torch
    state = torch.load("pt_inception-2015-12-05-6726825d.pth", map_location="cpu")
    np.savez("fid_inception.npz", **{k: v.numpy() for k, v in state.items()})

(a 95 MB file), then ``python -m jaxgan.evaluate --workdir RUN --inception_weights fid_inception.npz``, or,
between two folders of images (a run's translations written by ``jaxgan.translate`` and real ones; what
``python -m pytorch_fid DIR_A DIR_B`` computes)::

    python -m jaxgan.metrics.fid DIR_A DIR_B --inception_weights fid_inception.npz
The arrays keep their state-dict names (``Mixed_5b.branch1x1.conv.weight``, ``....bn.running_var``;
PyTorch's OIHW layout); the classifier head (``fc.*``) is not used. A file that lacks an array or holds
one of another shape is refused by name (``load_fid_inception``).

**Preprocessing, as pytorch-fid on saved images.** Images in [-1, 1] are quantised to 8 bits (what a
PNG of them holds), a grey channel is repeated three times, each image is resized to 299x299 bilinearly
without antialiasing (``F.interpolate(..., mode='bilinear', align_corners=False)``'s sampling) and scaled
to [-1, 1]. ``benchmarks/check_fid_inception.py`` compares the features with pytorch-fid's on the same
weights (RESULTS.md, "FID and KID").
"""

from __future__ import annotations

import functools
import os
import zipfile
from typing import Callable, Dict, Mapping, NamedTuple, Optional, Tuple, Union

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from jaxgan import errors
from jaxgan.data import folder
from jaxgan.errors import ConfigError, DataSourceError
from jaxgan.metrics.batching import map_in_batches
from jaxgan.metrics.frechet import frechet_classifier_distance
from jaxgan.networks.conv import Conv
from jaxgan.train_step import compiler_options

INPUT_SIZE = 299
FEATURES = 2048
BN_EPSILON = 1e-3  # torchvision's BasicConv2d.
RECIPE = ("make the file from pytorch-fid's weights as `jaxgan.metrics.fid`'s docstring shows: "
          "np.savez('fid_inception.npz', **{k: v.numpy() for k, v in torch.load(PTH).items()})")
# The subsets KID averages over (torch-fidelity's defaults): 100 subsets of at most 1,000 images each.
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
BATCH_SIZE = 50  # Images per call of the network at 299x299 (pytorch-fid's default batch).


class ConvSpec(NamedTuple):
    """One BasicConv2d: a bias-free convolution, batch norm (running statistics) and ReLU."""

    name: str
    features: int
    kernel: Tuple[int, int] = (1, 1)
    stride: int = 1
    padding: Tuple[int, int] = (0, 0)


def _conv(name: str, features: int, kernel: Union[int, Tuple[int, int]] = 1, stride: int = 1,
          padding: Union[int, Tuple[int, int]] = 0) -> ConvSpec:
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    return ConvSpec(name, features, pair(kernel), stride, pair(padding))


# A branch of a mixed block is a sequence of steps: a ConvSpec, a pool ('avg': 3x3 stride 1 over the
# unpadded window; 'max': 3x3 stride 1, padded; 'max_s2': 3x3 stride 2, unpadded) or a pair of ConvSpecs
# applied to the same input and concatenated (the last blocks' 1x3 | 3x1 split).
def _block_a(pool_features: int):
    return ((_conv("branch1x1", 64),),
            (_conv("branch5x5_1", 48), _conv("branch5x5_2", 64, 5, padding=2)),
            (_conv("branch3x3dbl_1", 64), _conv("branch3x3dbl_2", 96, 3, padding=1),
             _conv("branch3x3dbl_3", 96, 3, padding=1)),
            ("avg", _conv("branch_pool", pool_features)))


def _block_c(c7: int):
    row, column = dict(kernel=(1, 7), padding=(0, 3)), dict(kernel=(7, 1), padding=(3, 0))
    return ((_conv("branch1x1", 192),),
            (_conv("branch7x7_1", c7), _conv("branch7x7_2", c7, **row), _conv("branch7x7_3", 192, **column)),
            (_conv("branch7x7dbl_1", c7), _conv("branch7x7dbl_2", c7, **column), _conv("branch7x7dbl_3", c7, **row),
             _conv("branch7x7dbl_4", c7, **column), _conv("branch7x7dbl_5", 192, **row)),
            ("avg", _conv("branch_pool", 192)))


def _block_e(pool: str):
    def split(prefix: str):
        return (_conv(f"{prefix}a", 384, (1, 3), padding=(0, 1)), _conv(f"{prefix}b", 384, (3, 1), padding=(1, 0)))
    return ((_conv("branch1x1", 320),),
            (_conv("branch3x3_1", 384), split("branch3x3_2")),
            (_conv("branch3x3dbl_1", 448), _conv("branch3x3dbl_2", 384, 3, padding=1), split("branch3x3dbl_3")),
            (pool, _conv("branch_pool", 192)))


STEM = (_conv("Conv2d_1a_3x3", 32, 3, stride=2), _conv("Conv2d_2a_3x3", 32, 3), _conv("Conv2d_2b_3x3", 64, 3, padding=1),
        "max_s2", _conv("Conv2d_3b_1x1", 80), _conv("Conv2d_4a_3x3", 192, 3), "max_s2")
MIXED = (
    ("Mixed_5b", _block_a(32)), ("Mixed_5c", _block_a(64)), ("Mixed_5d", _block_a(64)),
    ("Mixed_6a", ((_conv("branch3x3", 384, 3, stride=2),),
                  (_conv("branch3x3dbl_1", 64), _conv("branch3x3dbl_2", 96, 3, padding=1),
                   _conv("branch3x3dbl_3", 96, 3, stride=2)),
                  ("max_s2",))),
    ("Mixed_6b", _block_c(128)), ("Mixed_6c", _block_c(160)), ("Mixed_6d", _block_c(160)), ("Mixed_6e", _block_c(192)),
    ("Mixed_7a", ((_conv("branch3x3_1", 192), _conv("branch3x3_2", 320, 3, stride=2)),
                  (_conv("branch7x7x3_1", 192), _conv("branch7x7x3_2", 192, (1, 7), padding=(0, 3)),
                   _conv("branch7x7x3_3", 192, (7, 1), padding=(3, 0)), _conv("branch7x7x3_4", 192, 3, stride=2)),
                  ("max_s2",))),
    ("Mixed_7b", _block_e("avg")),
    ("Mixed_7c", _block_e("max")),  # The FID graph's max pool here (torchvision: average).
)


def _pool(kind: str, x: jax.Array) -> jax.Array:
    if kind == "avg":  # TensorFlow's average pool: the mean over the window's unpadded positions.
        return nn.avg_pool(x, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1)), count_include_pad=False)
    if kind == "max":
        return nn.max_pool(x, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1)))
    if kind == "max_s2":
        return nn.max_pool(x, (3, 3), strides=(2, 2))
    raise ValueError(f"unknown pool {kind!r}")


class BasicConv(nn.Module):
    """relu(BN(conv(x))) with BN's running statistics (eps 1e-3): torchvision's BasicConv2d in inference."""

    spec: ConvSpec

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        s = self.spec
        x = Conv(s.features, s.kernel, strides=s.stride, padding=[(p, p) for p in s.padding], use_bias=False,
                 precision=jax.lax.Precision.HIGHEST, name="conv")(x)
        return nn.relu(nn.BatchNorm(use_running_average=True, epsilon=BN_EPSILON, name="bn")(x))


class Mixed(nn.Module):
    """One Inception block: its branches (see ``MIXED``) on the same input, concatenated along channels."""

    branches: tuple

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        def step(h, s):
            if isinstance(s, str):
                return _pool(s, h)
            if isinstance(s, ConvSpec):
                return BasicConv(s, name=s.name)(h)
            return jnp.concatenate([BasicConv(part, name=part.name)(h) for part in s], axis=-1)

        outputs = []
        for branch in self.branches:
            h = x
            for s in branch:
                h = step(h, s)
            outputs.append(h)
        return jnp.concatenate(outputs, axis=-1)


class FIDInception(nn.Module):
    """The FID Inception network up to pool3: [N, H, W, 3] in [-1, 1] (299x299 for FID) -> [N, 2048]."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for s in STEM:
            x = _pool(s, x) if isinstance(s, str) else BasicConv(s, name=s.name)(x)
        for name, branches in MIXED:
            x = Mixed(branches, name=name)(x)
        return jnp.mean(x, axis=(1, 2))


def _torch_name(path: Tuple[str, ...]) -> str:
    """The state-dict key of a Flax leaf: ('params', 'Mixed_5b', 'branch1x1', 'conv', 'kernel') ->
    'Mixed_5b.branch1x1.conv.weight'; batch norm's scale, bias, mean and var -> weight, bias,
    running_mean, running_var."""
    leaf = {"kernel": "weight", "scale": "weight", "bias": "bias", "mean": "running_mean", "var": "running_var"}
    return ".".join(path[1:-1] + (leaf[path[-1]],))


def variable_shapes() -> Dict[Tuple[str, ...], Tuple[int, ...]]:
    """Every variable of :class:`FIDInception` as (collection, module..., name) -> Flax shape."""
    shapes = jax.eval_shape(FIDInception().init, jax.random.PRNGKey(0), jnp.zeros((1, 75, 75, 3)))
    flat = jax.tree_util.tree_flatten_with_path(shapes)[0]
    return {tuple(k.key for k in path): tuple(leaf.shape) for path, leaf in flat}


def variables_from_state_dict(arrays, path: str = "the weights") -> Dict:
    """Flax variables of :class:`FIDInception` from state-dict arrays (a mapping name -> array, e.g. an
    ``np.load``-ed .npz): convolution kernels OIHW -> HWIO. A ConfigError names a missing array or one of
    another shape."""
    variables: Dict = {}
    for key, shape in variable_shapes().items():
        name = _torch_name(key)
        if name not in arrays:
            raise ConfigError(f"{path}: no array {name!r}; it must hold pytorch-fid's Inception state dict: {RECIPE}")
        value = np.asarray(arrays[name], np.float32)
        if key[-1] == "kernel":
            value = value.transpose(2, 3, 1, 0) if value.ndim == 4 else value
        if value.shape != shape:
            expected = (shape[3], shape[2], shape[0], shape[1]) if key[-1] == "kernel" else shape
            raise ConfigError(f"{path}: array {name!r} has shape {np.shape(arrays[name])}, the FID Inception "
                              f"network's is {expected}: not pytorch-fid's weights? {RECIPE}")
        node = variables
        for part in key[:-1]:
            node = node.setdefault(part, {})
        node[key[-1]] = jnp.asarray(value)
    return variables


def load_fid_inception(path: str) -> Dict:
    """:func:`variables_from_state_dict` of the .npz at ``path``; a ConfigError for a missing or unreadable
    file."""
    if not os.path.isfile(path):
        raise ConfigError(f"--inception_weights={path!r}: no such file; {RECIPE}")
    try:
        with np.load(path) as f:
            arrays = {name: f[name] for name in f.files}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise ConfigError(f"--inception_weights={path!r} is not a readable .npz ({e}); {RECIPE}") from e
    return variables_from_state_dict(arrays, path)


def interpolation_matrix(size_in: int, size_out: int) -> np.ndarray:
    """[size_out, size_in] weights of PyTorch's bilinear sampling along one axis (``align_corners=False``):
    output j reads the source position max(0, (j + 0.5) size_in / size_out - 0.5) from its two neighbours,
    the last one repeated past the edge."""
    f32 = np.float32  # In float32 arithmetic, as PyTorch computes the positions and weights.
    source = np.maximum(f32(f32(size_in) / f32(size_out)) * (np.arange(size_out, dtype=f32) + f32(0.5)) - f32(0.5),
                        f32(0.0))
    low = np.minimum(source.astype(int), size_in - 1)
    high = np.minimum(low + 1, size_in - 1)
    weights = np.zeros((size_out, size_in), f32)
    np.add.at(weights, (np.arange(size_out), low), f32(1.0) - (source - low.astype(f32)))
    np.add.at(weights, (np.arange(size_out), high), source - low.astype(f32))
    return weights


def resize_bilinear(images: jax.Array, size: int) -> jax.Array:
    """[N, H, W, C] -> [N, size, size, C] by :func:`interpolation_matrix` along each axis: PyTorch's
    ``F.interpolate(mode='bilinear', align_corners=False)`` (no antialiasing when shrinking)."""
    rows, columns = (jnp.asarray(interpolation_matrix(n, size)) for n in images.shape[1:3])
    return jnp.einsum("ph,nhwc,qw->npqc", rows, images, columns, precision=jax.lax.Precision.HIGHEST)


def network_input(images: jax.Array) -> jax.Array:
    """Images in [-1, 1] ([N, H, W, 1 or 3]) as the network reads them: quantised to 8 bits, grey repeated
    to RGB, resized to 299x299 (:func:`resize_bilinear`), in [-1, 1]."""
    if images.shape[-1] not in (1, 3):
        raise ConfigError(f"FID needs grey or RGB images; these have {images.shape[-1]} channels")
    levels = jnp.round((jnp.clip(images.astype(jnp.float32), -1.0, 1.0) + 1.0) * 127.5) / 255.0
    levels = jnp.broadcast_to(levels, levels.shape[:-1] + (3,))
    return resize_bilinear(levels, INPUT_SIZE) * 2.0 - 1.0


FeaturesFn = Callable[[np.ndarray], np.ndarray]


def features_fn(variables: Dict, batch_size: int = BATCH_SIZE) -> FeaturesFn:
    """images [N, H, W, C] in [-1, 1] -> pool3 features [N, 2048] (numpy), ``batch_size`` at a time (the
    last batch zero-padded, so one compiled shape). On CPU the convolutions run in XLA's Eigen kernels, 2.3x
    faster than YNNPACK's here (RESULTS.md, "FID and KID")."""
    apply = jax.jit(lambda v, x: FIDInception().apply(v, network_input(x)),
                    compiler_options=compiler_options(cpu_ynnpack=False))

    def features(images: np.ndarray) -> np.ndarray:
        if len(images) == 0:
            return np.zeros((0, FEATURES), np.float32)
        return map_in_batches(functools.partial(apply, variables), images, batch_size)

    return features


def kernel_inception_distance(features_a: np.ndarray, features_b: np.ndarray, *, num_subsets: int = KID_SUBSETS,
                              subset_size: int = KID_SUBSET_SIZE, seed: int = 0) -> Dict[str, float]:
    """KID (module docstring) of two feature sets [N, d], [M, d]: mean and standard deviation over
    ``num_subsets`` pairs of random subsets of m = min(subset_size, N, M) rows each (without replacement
    within a subset), in float64."""
    a, b = (np.asarray(f, np.float64) for f in (features_a, features_b))
    m = min(subset_size, len(a), len(b))
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or m < 2:
        raise ValueError(f"KID needs two feature sets [N >= 2, d] of one d; got {a.shape} and {b.shape}")
    d = a.shape[1]
    kernel = lambda x, y: (x @ y.T / d + 1.0) ** 3  # noqa: E731
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(num_subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        k_xx, k_yy = kernel(x, x), kernel(y, y)
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        values.append(within - 2.0 * kernel(x, y).mean())
    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "subset_size": m}


def fid_and_kid(features: np.ndarray, real_features: np.ndarray, *, seed: int = 0) -> Dict[str, float]:
    """{'fid', 'kid', 'kid_std'} of a feature set against the real images' features."""
    kid = kernel_inception_distance(features, real_features, seed=seed)
    return {"fid": frechet_classifier_distance(features, real_features), "kid": kid["mean"], "kid_std": kid["std"]}


def scorer(path: Optional[str], batch_size: int = BATCH_SIZE) -> Optional[FeaturesFn]:
    """The features function of the weights at ``path`` (None: no FID)."""
    return None if path is None else features_fn(load_fid_inception(path), batch_size)


def format_rows(rows: Mapping[str, Mapping]) -> str:
    """The rows of ``rows`` (name -> a result row) that have an FID, as a small table: FID and KID (mean
    +/- standard deviation over the subsets; '-' where a row has FID only)."""
    lines = [f"{'in FID Inception features':<26}{'FID':>12}  KID"]
    for name, row in rows.items():
        if row.get("fid") is not None:
            kid = f"{row['kid']:.5f} +/- {row['kid_std']:.5f}" if row.get("kid") is not None else "-"
            lines.append(f"{name:<26}{row['fid']:>12.2f}  {kid}")
    return "\n".join(lines)


def folder_features(path: str, features: FeaturesFn, chunk: int = 500) -> np.ndarray:
    """The features of every image file directly in the folder ``path`` (sorted by name), read as 8-bit RGB
    as pytorch-fid reads them; images of each size are resized from that size. A DataSourceError names a
    missing folder, one without images, or an unreadable file."""
    if not os.path.isdir(path):
        raise DataSourceError(f"{path}: no such folder")
    paths = folder.image_files(path)
    if not paths:
        raise DataSourceError(f"{path}: no image files ({', '.join(folder.IMAGE_EXTENSIONS)}) directly in it")
    scan = folder.scan_images(path, paths)
    by_path = {}
    for (width, height), group in scan.sizes.items():
        for s in range(0, len(group), chunk):
            pixels = folder.read_pixels(path, group[s:s + chunk], (height, width, 3))
            by_path.update(zip(group[s:s + chunk], features(pixels.astype(np.float32) / 127.5 - 1.0)))
    return np.stack([by_path[p] for p in scan.paths])


def compare_folders(path_a: str, path_b: str, weights: str, *, batch_size: int = BATCH_SIZE, seed: int = 0) -> Dict:
    """FID and KID of the images of folder ``path_a`` against those of ``path_b`` (pytorch-fid's
    ``python -m pytorch_fid A B``): dict(fid, kid, kid_std, images_a, images_b)."""
    for path in (path_a, path_b):
        if not os.path.isdir(path):
            raise DataSourceError(f"{path}: no such folder")
    features = features_fn(load_fid_inception(weights), batch_size)
    a, b = folder_features(path_a, features), folder_features(path_b, features)
    return {**fid_and_kid(a, b, seed=seed), "images_a": len(a), "images_b": len(b)}


def define_flags() -> None:
    """The flags of ``python -m jaxgan.metrics.fid``, defined when it runs as a command."""
    flags.DEFINE_string("inception_weights", None, "A .npz of pytorch-fid's weights (how to make it: "
                        "jaxgan/metrics/fid.py).")
    flags.DEFINE_integer("batch_size", BATCH_SIZE, "Images per call of the network.")
    flags.mark_flag_as_required("inception_weights")


def main(argv) -> None:
    if len(argv) != 3:
        raise app.UsageError("give two folders of images: python -m jaxgan.metrics.fid DIR_A DIR_B "
                             "--inception_weights fid_inception.npz")
    with errors.reported():
        result = compare_folders(argv[1], argv[2], flags.FLAGS.inception_weights, batch_size=flags.FLAGS.batch_size)
    print(f"FID {result['fid']:.4f}  KID {result['kid']:.6f} +/- {result['kid_std']:.6f}  "
          f"({result['images_a']} / {result['images_b']} images)")


if __name__ == "__main__":
    define_flags()
    app.run(main, flags_parser=errors.parse_flags)
