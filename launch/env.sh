# Environment defaults for running electra on CPU; `source launch/env.sh` (the launch and bench
# scripts do). Values already set by the user are kept.
# OpenMP threads (LibTorch) and OpenBLAS threads otherwise spin against each other on few cores:
# passive waiting measured 1.7x faster on the ELECTRA-Small step here (bench/model_step_bench).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
