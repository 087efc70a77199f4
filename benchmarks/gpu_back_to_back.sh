#!/usr/bin/env bash
# Issue 14's GPU rows timed as training runs them, in one call of under 10 minutes:
#   - every row's steps also timed in a row (speed.py --back_to_back: jaxgan dispatches step n before it
#     waits for step n - 1's metrics, as Trainer.run; the twin synchronises once at the end, as the
#     reference loops), beside the per-step synchronised median of the earlier GPU tables. The H200
#     profile of pix2pix b32 (RESULTS.md, "Where the bf16 steps spend their time") saw the stream idle
#     ~2 ms of a 13.4 ms step, and a per-step synchronised step pays its own dispatch;
#   - pix2pix b32 with XLA's command buffers (CUDA graphs) extended to convolutions, and with
#     programmatic dependent launch, against the same step with XLA's defaults;
#   - the MLP cGAN and AC-GAN at batch 64 with 10 steps per compiled call (train.steps_per_call) and 1.
# bf16 rows use train.compute_dtype=bfloat16 and train.activation_dtype=bfloat16. Write the output to a
# file under $OUT (the device tool returns only the last 12,000 characters):
#
#   bash benchmarks/gpu_back_to_back.sh [LOG_DIR] > $OUT/back_to_back.txt   # each part's stderr in LOG_DIR
#
# Same machine requirements and .whl/ wheels as benchmarks/gpu.sh. Parts, most important first, each under
# its own time limit (what each took on an H200 on 2026-12-04 plus a margin; a part that outlives its limit
# keeps what it printed).
set -uo pipefail
cd "$(dirname "$0")/.."
logs="${1:-gpu_logs}"
mkdir -p "$logs"
source benchmarks/gpu_env.sh
python3 -c "import jax, torch, jaxgan; assert jax.default_backend() == 'gpu', jax.devices(); \
print(jax.devices()[0].device_kind, 'jax', jax.__version__, 'torch', torch.__version__)" || exit 1

speed=(python3 benchmarks/speed.py --synthetic_data --steps 20 --warmup 3 --pipeline_batches 0 --back_to_back)
bf16=(--set train.compute_dtype=bfloat16 --set train.activation_dtype=bfloat16)
p2p=(--configs configs/pix2pix_facades.py --batch_sizes 32)

part pix2pix_b32 150 "${speed[@]}" "${p2p[@]}" "${bf16[@]}" --peers
part cyclegan_b8 120 "${speed[@]}" --configs configs/cyclegan_paper.py --batch_sizes 8 "${bf16[@]}" --peers \
  --gpu_variants bf16
part pix2pix_b32_convolution_graphs 60 XLA_FLAGS=--xla_gpu_enable_command_buffer=+CONVOLUTION \
  "${speed[@]}" "${p2p[@]}" "${bf16[@]}"
part pix2pix_b32_pdl 60 XLA_FLAGS=--xla_gpu_enable_pdl=true "${speed[@]}" "${p2p[@]}" "${bf16[@]}"
part pix2pix_b1 60 "${speed[@]}" --configs configs/pix2pix_facades.py --batch_sizes 1 --peers --gpu_variants eager
part steps_per_call_10 60 "${speed[@]}" --configs configs/cgan_mnist.py,configs/acgan_mnist.py --batch_sizes 64 \
  --set train.steps_per_call=10
part steps_per_call_1 40 "${speed[@]}" --configs configs/cgan_mnist.py,configs/acgan_mnist.py --batch_sizes 64
part dcgan_b1024 50 "${speed[@]}" --configs configs/cgan_dcgan_mnist.py --batch_sizes 1024 "${bf16[@]}" --peers \
  --gpu_variants eager
