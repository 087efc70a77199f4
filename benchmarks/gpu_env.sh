# Sourced by benchmarks/gpu.sh, gpu_profile.sh and gpu_back_to_back.sh (from the repository root): the environment of a GPU
# run of jaxgan from the checkout, with the pure-Python needs the GPU machine lacks installed with
# --no-deps into /tmp/jaxgan-site from the wheels in the ignored .whl/ folder (filled on a connected
# machine: pip download --no-deps -d .whl ml_collections==1.1.0 tensorboardX dm-pix==0.4.5 optax==0.2.8).
export PYTHONPATH="$PWD:$PWD/benchmarks${PYTHONPATH:+:$PYTHONPATH}"
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # JAX and torch share the GPU in one process.
export TF_CPP_MIN_LOG_LEVEL=3 PYTHONUNBUFFERED=1
site=/tmp/jaxgan-site
wheels=()
for module_wheel in ml_collections:ml_collections tensorboardX:tensorboardx dm_pix:dm_pix; do
  python3 -c "import ${module_wheel%%:*}" 2>/dev/null || wheels+=(.whl/${module_wheel##*:}-*.whl)
done
python3 -c "import optax; optax.tree.norm" 2>/dev/null || wheels+=(.whl/optax-*.whl)
if (( ${#wheels[@]} )); then
  echo "installing from .whl/: ${wheels[*]}"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" "${wheels[@]}" || {
    echo "could not install ${wheels[*]}: carry their wheels in .whl/ (see benchmarks/gpu_env.sh)" >&2; exit 1; }
  export PYTHONPATH="$site:$PYTHONPATH"
fi

part() {  # part NAME SECONDS [VAR=VALUE...] COMMAND...: one process under its own time limit (gpu_profile.sh,
  # gpu_back_to_back.sh); its stdout printed without absl's info lines, its stderr in $logs/NAME.err.
  echo "== $1 (${*:3})"
  local name=$1 limit=$2
  shift 2
  timeout "$limit" env "$@" 2> "$logs/$name.err" | grep -v '^I[0-9]'
  local rc=${PIPESTATUS[0]}
  (( rc == 0 )) || { echo "$name: exit $rc (124: over its $limit s); last lines of its stderr:"; tail -4 "$logs/$name.err"; }
}
