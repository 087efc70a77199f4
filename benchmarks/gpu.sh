#!/usr/bin/env bash
# The issue-14 speed table on one GPU (H100 / H200), jaxgan against its PyTorch twins, in about 9.5
# minutes including compilation. Installs nothing from the network (a GPU machine may have no registry).
#
#   bash benchmarks/gpu.sh [LOG_DIR]        # tables on stdout; each part's stderr in LOG_DIR (6 files)
#
# Expected on the machine: jax with CUDA, flax, orbax-checkpoint, torch with CUDA. jaxgan runs from the
# checkout (PYTHONPATH), not installed; its pure-Python needs that the machine lacks (ml_collections,
# tensorboardX, dm-pix; optax if the machine's predates optax.tree) are installed with --no-deps into
# /tmp/jaxgan-site from the wheels in the repository's ignored .whl/ folder, filled on a connected
# machine with `pip download --no-deps -d .whl ml_collections==1.1.0 tensorboardX dm-pix==0.4.5 optax==0.2.8`.
#
# Rows, most important first (a run that outlives its limit keeps the rows it printed); the limits are
# what each part took on an H200 on 2026-12-04 plus ~10% (benchmarks/RESULTS.md, "Speed on one H200"):
#   pix2pix unet_256 b32, b1 and CycleGAN resnet_9blocks b8: jaxgan fp32 beside the twin's eager fp32,
#   bf16 autocast + channels_last and torch.compile; CycleGAN b1 beside eager and bf16 (torch.compile's
#   second compile does not fit); jaxgan with train.compute_dtype=bfloat16 at pix2pix b32 and CycleGAN
#   b8; the MLP cGAN, DCGAN cGAN and AC-GAN at b64 and b1024 beside the twin's eager and bf16 variants.
#   Each: 20 timed steps after 3 warm-up (median). Utilisation is against the bf16 dense peak (H100 790
#   TFLOP/s measured, H200 989 nominal). About 560 s in all; with JAXGAN_GPU_PRECISION=1 also
#   tests/test_precision.py on the GPU (bf16 losses and gradients against fp32; 55 s more).
set -uo pipefail
cd "$(dirname "$0")/.."
logs="${1:-gpu_logs}"
mkdir -p "$logs"
source benchmarks/gpu_env.sh
python3 -c "import jax, torch, jaxgan; assert jax.default_backend() == 'gpu', jax.devices(); \
assert torch.cuda.is_available(); print(jax.devices()[0].device_kind, 'jax', jax.__version__, 'torch', torch.__version__)" \
  || exit 1
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader || true

bench() {  # bench NAME SECONDS CONFIGS BATCH_SIZES [speed.py flags]: one process under its own limit
  echo "== $1"
  timeout "$2" python3 benchmarks/speed.py --configs "$3" --batch_sizes "$4" --synthetic_data \
    --steps 20 --warmup 3 --pipeline_batches 5 "${@:5}" > "/tmp/jaxgan-gpu-$1.out" 2> "$logs/$1.err"
  local rc=$?
  grep -v '^I[0-9]' "/tmp/jaxgan-gpu-$1.out"
  (( rc == 0 )) || { echo "$1: exit $rc (124: over its ${2} s); last lines of its stderr:"; tail -5 "$logs/$1.err"; }
}
bench pix2pix 140 configs/pix2pix_facades.py 32,1 --peers
bench cyclegan_b8 130 configs/cyclegan_paper.py 8 --peers
bench cyclegan_b1 70 configs/cyclegan_paper.py 1 --peers --gpu_variants eager,bf16
bench pix2pix_bf16 45 configs/pix2pix_facades.py 32 --set train.compute_dtype=bfloat16
bench cyclegan_bf16 80 configs/cyclegan_paper.py 8 --set train.compute_dtype=bfloat16
bench label_conditional 80 configs/cgan_mnist.py,configs/cgan_dcgan_mnist.py,configs/acgan_mnist.py 64,1024 \
  --peers --gpu_variants eager,bf16
if [[ "${JAXGAN_GPU_PRECISION:-0}" == 1 ]]; then
  echo "== bf16 vs fp32 on this GPU: tests/test_precision.py (losses and gradient norms within 1%)"
  JAX_PLATFORMS=cuda timeout 60 python3 -m pytest -q -x tests/test_precision.py 2>&1 | tail -4
fi
