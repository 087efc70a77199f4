#!/usr/bin/env bash
# What is still unmeasured of issue 14 on one GPU, in one call of about 9 minutes (the device tool's timeout_s=600;
# after the third H200 session, RESULTS.md "Steps timed in a row, XLA launch options, and CycleGAN's bf16 profile"):
#   - CycleGAN b1 beside its twin (eager and bf16 autocast; no GPU table has its PyTorch figure yet), timed
#     per step and in a row;
#   - CycleGAN b8 bf16's profile again, with the compiled step's HLO written to LOG_DIR/cyclegan_b8.hlo, to look
#     up its largest fusions (concatenate fusions took 11.5 ms of 73.8 busy, one of them 4.6 ms);
#   - reflection padding in three forms on CycleGAN's shapes at batch 8 in bf16 (benchmarks/reflect_pad.py; the
#     step's concatenates all come from its reflection pads), and CycleGAN b8's whole step in a row with its pads
#     as one gather with a folded gradient (speed.py --reflect_pad_form gather_fold) beside the default;
#   - DCGAN cGAN b1024 bf16's profile (2x its twin needs 4.25 ms in a row, it takes 5.2);
#   - AC-GAN b64 with 10 steps per compiled call (its compilation outlived two 60 s limits).
# Write the output to a file under $OUT (the device tool returns only the last 12,000 characters):
#
#   bash benchmarks/gpu_profile.sh [LOG_DIR] > $OUT/profile.txt   # each part's stderr (and the HLO) in LOG_DIR
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

act=(--set train.compute_dtype=bfloat16 --set train.activation_dtype=bfloat16)
speed=(python3 benchmarks/speed.py --synthetic_data --steps 20 --warmup 3 --pipeline_batches 0 --back_to_back)

part cyclegan_b1 90 "${speed[@]}" --configs configs/cyclegan_paper.py --batch_sizes 1 "${act[@]}" --peers \
  --gpu_variants eager,bf16
part cyclegan_b8_profile 120 python3 benchmarks/profile_step.py --config configs/cyclegan_paper.py \
  --set train.batch_size=8 --synthetic_data --steps 8 --top 25 --hlo "$logs/cyclegan_b8.hlo" "${act[@]}"
part reflect_pad 60 python3 benchmarks/reflect_pad.py --batch 8 --dtype bfloat16
for form in gather_fold concatenate; do
  part "cyclegan_b8_pads_$form" 75 "${speed[@]}" --configs configs/cyclegan_paper.py --batch_sizes 8 "${act[@]}" \
    --reflect_pad_form "$form"
done
part dcgan_b1024_profile 60 python3 benchmarks/profile_step.py --config configs/cgan_dcgan_mnist.py \
  --set train.batch_size=1024 --steps 10 --top 15 "${act[@]}"
part acgan_steps_per_call 90 "${speed[@]}" --configs configs/acgan_mnist.py --batch_sizes 64 --set train.steps_per_call=10
