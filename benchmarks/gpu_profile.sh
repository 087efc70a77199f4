#!/usr/bin/env bash
# Where the bf16 steps of pix2pix (b32) and CycleGAN (b8) spend their time on one GPU (issue 14's 2x
# and 35% goals), in one call of about 9 minutes:
#   - each transposed-convolution form of pix2pix's decoder layers at batch 32 in bf16 (conv_transpose.py);
#   - the steps' GPU kernels by family and the slowest ones, with train.activation_dtype=bfloat16 (layers
#     hand bf16 to each other; 13.4 ms against 13.8 for float32 activations on pix2pix b32 on 2026-12-04),
#     and the stream's idle time (profile_step.py);
#   - pix2pix b32 with bf16 activations beside its PyTorch twin; pix2pix b1 and DCGAN cGAN b1024 in bf16;
#   - the MLP cGAN and AC-GAN at batch 64 with 10 steps per compiled call (train.steps_per_call).
# The limits are what each part took on an H200 on 2026-12-04 plus a margin (RESULTS.md, "Where the bf16
# steps spend their time"); the first call there printed only the last 12,000 characters, so write the
# output to a file under $OUT.
#
#   bash benchmarks/gpu_profile.sh [LOG_DIR] > $OUT/profile.txt   # each part's stderr in LOG_DIR
#
# Same machine requirements and .whl/ wheels as benchmarks/gpu.sh. Parts, most important first, each
# under its own time limit (a part that outlives it keeps what it printed).
set -uo pipefail
cd "$(dirname "$0")/.."
logs="${1:-gpu_logs}"
mkdir -p "$logs"
source benchmarks/gpu_env.sh
python3 -c "import jax, jaxgan; assert jax.default_backend() == 'gpu', jax.devices(); \
print(jax.devices()[0].device_kind, 'jax', jax.__version__)" || exit 1

part() {  # part NAME SECONDS COMMAND...: one process under its own limit, stdout kept, stderr to LOG_DIR
  echo "== $1"
  local name=$1 limit=$2
  shift 2
  timeout "$limit" "$@" 2> "$logs/$name.err" | grep -v '^I[0-9]'
  local rc=${PIPESTATUS[0]}
  (( rc == 0 )) || { echo "$name: exit $rc (124: over its $limit s); last lines of its stderr:"; tail -4 "$logs/$name.err"; }
}
act=(--set train.compute_dtype=bfloat16 --set train.activation_dtype=bfloat16)
p2p=(--config configs/pix2pix_facades.py --set train.batch_size=32 --synthetic_data --steps 10 --top 12)
cyc=(--config configs/cyclegan_paper.py --set train.batch_size=8 --synthetic_data --steps 8 --top 12)

part pix2pix_act 60 python3 benchmarks/profile_step.py "${p2p[@]}" "${act[@]}"
part cyclegan_act 130 python3 benchmarks/profile_step.py "${cyc[@]}" "${act[@]}"
part conv_transpose 80 python3 benchmarks/conv_transpose.py --layers pix2pix,pix2pix_deep --batch_scale 32 \
  --dtype bfloat16 --repeats 7
part pix2pix_peers 110 python3 benchmarks/speed.py --configs configs/pix2pix_facades.py --batch_sizes 32 \
  --synthetic_data --steps 20 --warmup 3 --pipeline_batches 0 --peers "${act[@]}"
part pix2pix_b1 45 python3 benchmarks/speed.py --configs configs/pix2pix_facades.py --batch_sizes 1 \
  --synthetic_data --steps 20 --warmup 3 --pipeline_batches 0 "${act[@]}"
part steps_per_call 90 python3 benchmarks/speed.py --configs configs/cgan_mnist.py,configs/acgan_mnist.py \
  --batch_sizes 64 --steps 20 --warmup 3 --pipeline_batches 0 --set train.steps_per_call=10
part dcgan_b1024 40 python3 benchmarks/speed.py --configs configs/cgan_dcgan_mnist.py --batch_sizes 1024 \
  --steps 20 --warmup 3 --pipeline_batches 0 "${act[@]}"
