#!/usr/bin/env bash
# The issue-14 speed table on one GPU (H100 / H200), jaxgan against its PyTorch twins, in < 8 minutes
# including compilation. Installs nothing from the network (the GPU machine has no package registry).
#
#   bash benchmarks/gpu.sh 2>&1 | tee gpu_speed.txt
#
# Expected on the machine: jax 0.11.2 (CUDA), flax 0.12.10, orbax-checkpoint 0.12.4, torch 2.11 (CUDA).
# jaxgan's other imports -- optax, chex (+ toolz), ml_collections, absl-py, tqdm, Pillow, tensorboardX
# (+ protobuf) -- are used from the machine if importable, else installed with
# `pip install --no-index --find-links .whl/` from wheels carried in the repository's ignored .whl/
# folder (fill it on a connected machine with the same Python: `pip download -d .whl/ --only-binary=:all:
# optax chex ml_collections absl-py tqdm pillow tensorboardX`). jaxgan itself runs from the checkout
# (PYTHONPATH), not installed.
#
# Rows (the issue's): pix2pix unet_256 b1, b32; CycleGAN resnet_9blocks b1, b8; MLP cGAN b64, b1024;
# DCGAN cGAN b64, b1024; AC-GAN b64, b1024. Each: 20 timed steps after 3 warm-up (median), the twin's
# eager fp32, bf16 autocast + channels_last and torch.compile variants beside it. Utilisation is
# against the bf16 dense peak (H100 790 TFLOP/s measured, H200 989; --peak_tflops overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD:$PWD/benchmarks${PYTHONPATH:+:$PYTHONPATH}"
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # JAX and torch share the GPU in one process.
export TF_CPP_MIN_LOG_LEVEL=3

missing=$(python - <<'PY'
import importlib.util
mods = {"optax": "optax", "chex": "chex", "ml_collections": "ml_collections", "absl": "absl-py", "tqdm": "tqdm",
        "PIL": "pillow", "tensorboardX": "tensorboardX", "flax": "flax", "orbax.checkpoint": "orbax-checkpoint",
        "jax": "jax", "torch": "torch"}
print(" ".join(p for m, p in mods.items() if importlib.util.find_spec(m.split(".")[0]) is None))
PY
)
if [[ -n "$missing" ]]; then
  if [[ -d .whl ]]; then
    echo "installing from .whl/: $missing"
    pip install --no-index --find-links .whl/ $missing
  else
    echo "missing packages: $missing; carry their wheels in .whl/ (see the header of this script)" >&2
    exit 1
  fi
fi
python -c "import jax, torch; assert jax.default_backend() == 'gpu', jax.devices(); assert torch.cuda.is_available(); print(jax.devices()[0].device_kind)"

bench() {  # bench SECONDS CONFIG BATCH_SIZES: each run under its own limit, 7 min 10 s in all
  timeout "$1" python benchmarks/speed.py --configs "$2" --batch_sizes "$3" --synthetic_data --peers \
    --steps 20 --warmup 3 --pipeline_batches 5 "${@:4}" 2>/dev/null | grep -v '^I[0-9]' || echo "$2 $3: failed or timed out"
}
bench 120 configs/pix2pix_facades.py 1,32
bench 130 configs/cyclegan_paper.py 1,8
bench 60 configs/cgan_mnist.py 64,1024
bench 60 configs/cgan_dcgan_mnist.py 64,1024
bench 60 configs/acgan_mnist.py 64,1024
