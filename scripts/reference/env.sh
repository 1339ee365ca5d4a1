# sourced by the reference scripts: offline, quiet, deterministic
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 TRANSFORMERS_VERBOSITY=error TOKENIZERS_PARALLELISM=false
export PYTHONHASHSEED=0 OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1
PY=.cache/venv-ref/bin/python
