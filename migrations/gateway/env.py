from shared.runtime.alembic_env import run_env

run_env("gateway")
