"""Does ``jaxgan.metrics.fid`` compute pytorch-fid's features? Side by side on the same weights.

pytorch-fid's weights cannot be downloaded here, so both networks get the same random weights (``--pth FILE``:
pytorch-fid's real weight file instead, for whoever has it): pytorch-fid's
``InceptionV3`` (its FID blocks, built by its own ``fid_inception_v3``) is initialised by PyTorch, its batch
norms' scales and shifts are drawn at random and their running statistics set by forward passes in
training mode on random images; its state dict goes to a .npz exactly as ``jaxgan.metrics.fid``'s
docstring tells a user to convert the real file, and jaxgan loads that. Both read the same 8-bit images:
RGB upsampled (256x256), RGB downsampled and not square (512x384), and grey digits (28x28, repeated to RGB).
Prints the largest feature difference, the largest relative L2 difference of an image's features, the FID of
one half of the images against the other in each implementation's features, and the largest difference of
the 299x299 resize alone.

Needs the bench extra and pytorch-fid (not dependencies of jaxgan or its tests):

    pip install torch torchvision pytorch-fid
    python benchmarks/check_fid_inception.py [--out /tmp/fid_inception_random.npz] [--time_batches 4] [--pth PTH]
"""

from __future__ import annotations

import argparse
import contextlib
import time
from typing import Optional

import numpy as np
import torch
import torchvision
from pytorch_fid import inception as pytorch_fid_inception

from jaxgan.metrics import fid, frechet_classifier_distance


@contextlib.contextmanager
def _without_weight_download():
    """``fid_inception_v3`` ends by loading the downloaded weights: keep PyTorch's initialisation instead."""
    saved = (pytorch_fid_inception.load_state_dict_from_url, torchvision.models.Inception3.load_state_dict)
    pytorch_fid_inception.load_state_dict_from_url = lambda *args, **kwargs: None
    torchvision.models.Inception3.load_state_dict = lambda self, state, *args, **kwargs: None
    try:
        yield
    finally:
        pytorch_fid_inception.load_state_dict_from_url, torchvision.models.Inception3.load_state_dict = saved


def fid_network(pth: Optional[str] = None, seed: int = 0):
    """pytorch-fid's InceptionV3 (pool3) and the state dict of its Inception3 (the layout of the released
    weight file): with ``pth``, that file's weights (pytorch-fid's own, for whoever has them); otherwise random
    weights and batch-norm statistics."""
    torch.manual_seed(seed)
    with _without_weight_download():
        inception = pytorch_fid_inception.fid_inception_v3()
    if pth:
        inception.load_state_dict(torch.load(pth, map_location="cpu"))
    else:
        _randomise(inception)
    original = pytorch_fid_inception.fid_inception_v3
    pytorch_fid_inception.fid_inception_v3 = lambda: inception
    try:
        network = pytorch_fid_inception.InceptionV3([pytorch_fid_inception.InceptionV3.BLOCK_INDEX_BY_DIM[2048]])
    finally:
        pytorch_fid_inception.fid_inception_v3 = original
    return network.eval(), inception.state_dict()


def _randomise(inception) -> None:
    """Random batch-norm scales and shifts, and running statistics from training-mode passes on noise."""
    for module in inception.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
            module.momentum = None  # Running statistics: the cumulative average of the passes below.
            module.reset_running_stats()
    inception.train()
    with torch.no_grad():
        for _ in range(3):
            inception(torch.rand(8, 3, fid.INPUT_SIZE, fid.INPUT_SIZE) * 2 - 1)
    inception.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="/tmp/fid_inception_random.npz", help="Where the weights' .npz goes.")
    parser.add_argument("--pth", default=None, help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth: compare "
                        "on the real weights instead of random ones.")
    parser.add_argument("--images", type=int, default=16, help="Images per case.")
    parser.add_argument("--time_batches", type=int, default=0, help="Then time both on this many batches of 50 "
                        "256x256 RGB images (after one warm-up batch), PyTorch at 1 and 2 threads.")
    args = parser.parse_args()
    network, state = fid_network(args.pth)
    np.savez(args.out, **{k: v.numpy() for k, v in state.items()})  # The docstring's conversion.
    features = fid.features_fn(fid.load_fid_inception(args.out), batch_size=fid.BATCH_SIZE)
    rng = np.random.default_rng(0)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
          f"{args.pth or 'random'} weights -> {args.out}")
    print(f"{'case':<27}{'max |diff|':>11}{'max |torch|':>12}{'rel. L2':>10}{'FID halves, jax':>17}{'torch':>11}"
          f"{'resize |diff|':>14}")
    for name, shape in (("RGB 256x256 (upsampled)", (256, 256, 3)), ("RGB 512x384 (downsampled)", (512, 384, 3)),
                        ("grey 28x28", (28, 28, 1))):
        levels = rng.integers(0, 256, (args.images,) + shape)
        if name.startswith("grey"):  # Digit-like: mostly background, a blob of ink.
            levels = np.where(rng.random(levels.shape) < 0.8, 0, levels)
        unit = levels.astype(np.float32) / 255.0
        with torch.no_grad():
            reference = network(torch.from_numpy(unit).permute(0, 3, 1, 2).expand(-1, 3, -1, -1).contiguous())[0]
        reference = reference.squeeze(-1).squeeze(-1).numpy().astype(np.float64)
        resized = torch.nn.functional.interpolate(torch.from_numpy(unit).permute(0, 3, 1, 2), size=(299, 299),
                                                  mode="bilinear", align_corners=False).permute(0, 2, 3, 1).numpy()
        resize_diff = np.abs(np.asarray(fid.resize_bilinear(unit, fid.INPUT_SIZE)) - resized).max()
        ours = features(unit * 2.0 - 1.0).astype(np.float64)
        relative = (np.linalg.norm(ours - reference, axis=1) / np.linalg.norm(reference, axis=1)).max()
        half = args.images // 2  # FID of one half of the images against the other, in each one's features.
        print(f"{name:<27}{np.abs(ours - reference).max():>11.2e}{np.abs(reference).max():>12.3f}{relative:>10.2e}"
              f"{frechet_classifier_distance(ours[:half], ours[half:]):>17.4f}"
              f"{frechet_classifier_distance(reference[:half], reference[half:]):>11.4f}{resize_diff:>14.2e}")
    if args.time_batches:
        time_both(network, features, args.time_batches)


def time_both(network, features, batches: int, batch_size: int = 50) -> None:
    """Images per second of the features of ``batches`` batches of 256x256 RGB images, each side."""
    unit = np.random.default_rng(1).random((batch_size, 256, 256, 3)).astype(np.float32)
    rates = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        x = torch.from_numpy(unit).permute(0, 3, 1, 2).contiguous()
        with torch.no_grad():
            network(x)
            start = time.perf_counter()
            for _ in range(batches):
                network(x)
        rates[f"pytorch-fid, {threads} thread(s)"] = batches * batch_size / (time.perf_counter() - start)
    features(unit * 2 - 1)
    start = time.perf_counter()
    for _ in range(batches):
        features(unit * 2 - 1)
    rates["jaxgan.metrics.fid"] = batches * batch_size / (time.perf_counter() - start)
    for name, rate in rates.items():
        print(f"{name:<28}{rate:8.1f} images/s (batch {batch_size}, 256x256 RGB)")


if __name__ == "__main__":
    main()
