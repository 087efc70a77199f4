"""Input speed: decoded + augmented images/s of the Pipeline on pix2pix-style 256x256 JPEG pairs.

Writes ``--pairs`` random-texture A|B JPEG files of 256x512 (quality 90) to a temporary folder,
opens them as ``paired:DIR`` with junyanz's pix2pix preprocessing (resize to 286, random 256 crop,
flip) and times ``Pipeline.local_batch`` over consecutive steps, for each batch size and number
of reader threads (``data.num_workers``). An image is one 256x256 half of a pair.

    python benchmarks/input_pipeline.py --batch_sizes 1,16 --workers 0,2
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

import numpy as np
import PIL
from PIL import Image

from jaxgan.data.pipeline import Pipeline
from jaxgan.data.sources import build_source
from jaxgan.data.transforms import ResizeAndCrop


def write_pairs(root: str, count: int, seed: int = 0) -> None:
    """``count`` JPEG files of 256x512: smooth colour blobs plus fine noise, so that they compress
    like photographs rather than like flat colour or white noise."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        coarse = Image.fromarray(rng.integers(0, 256, (16, 32, 3), dtype=np.uint8)).resize((512, 256),
                                                                                            Image.Resampling.BICUBIC)
        pixels = np.asarray(coarse, np.int16) + rng.integers(-20, 21, (256, 512, 3))
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(os.path.join(root, f"{i:04d}.jpg"), quality=90)


def measure(source, batch_size: int, workers: int, images: int) -> tuple[float, float]:
    """(pairs per second, CPU ms per pair of this process) over enough consecutive steps to read
    about ``images`` pairs (after one warm-up step). CPU time per pair does not depend on what
    else shares the cores; pairs/s does."""
    pipeline = Pipeline(source, global_batch_size=batch_size, seed=0, num_workers=workers,
                        transform=ResizeAndCrop(load_size=286, crop_size=256, flip=True))
    steps = max(1, images // batch_size)
    pipeline.local_batch(0)
    start, cpu = time.perf_counter(), time.process_time()
    for step in range(1, steps + 1):
        pipeline.local_batch(step)
    pairs = steps * batch_size
    return pairs / (time.perf_counter() - start), 1000 * (time.process_time() - cpu) / pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--batch_sizes", default="1,16")
    parser.add_argument("--workers", default="0,2")
    parser.add_argument("--images", type=int, default=200, help="pairs read per measurement")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, numpy {np.__version__}, Pillow {PIL.__version__}, "
          f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}")
    with tempfile.TemporaryDirectory() as root:
        write_pairs(root, args.pairs)
        source = build_source(f"paired:{root}")
        print("| batch | threads | pairs/s | images/s (A and B) | ms per batch | CPU ms per pair |")
        print("| --- | --- | --- | --- | --- | --- |")
        for batch_size in map(int, args.batch_sizes.split(",")):
            for workers in map(int, args.workers.split(",")):
                rate, cpu_ms = measure(source, batch_size, workers, args.images)
                print(f"| {batch_size} | {workers} | {rate:.0f} | {2 * rate:.0f} | {1000 * batch_size / rate:.1f} "
                      f"| {cpu_ms:.1f} |", flush=True)


if __name__ == "__main__":
    main()
