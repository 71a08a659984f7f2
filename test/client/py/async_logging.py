"""Async logging: synchronous=False calls, and MLFLOW_ENABLE_ASYNC_LOGGING for a whole run (set by the test)."""
import os

import mlflow
from mlflow import MlflowClient
from common import emit, run_dict

mlflow.set_experiment("async")
with mlflow.start_run(run_name="per-call") as run:
    futures = [mlflow.log_metric("loss", 1.0 / (step + 1), step=step, synchronous=False) for step in range(50)]
    futures.append(mlflow.log_params({"lr": "0.01", "epochs": "50"}, synchronous=False))
    futures.append(mlflow.set_tag("mode", "async", synchronous=False))
    futures.append(mlflow.log_metrics({"acc": 0.5, "f1": 0.4}, step=49, synchronous=False))
    for f in futures:
        f.wait()
per_call = run.info.run_id

# The test sets MLFLOW_ENABLE_ASYNC_LOGGING=true: every call of this run is queued.
assert os.environ.get("MLFLOW_ENABLE_ASYNC_LOGGING") == "true"
with mlflow.start_run(run_name="env-wide") as run:
    for step in range(200):
        mlflow.log_metrics({"train_loss": 1.0 / (step + 1), "lr": 0.001}, step=step)
    mlflow.log_param("batch_size", 32)
    mlflow.set_tags({"a": "1", "b": "2"})
mlflow.flush_async_logging()
env_wide = run.info.run_id

client = MlflowClient()
emit({
    "per_call": run_dict(client.get_run(per_call)),
    "per_call_history": len(client.get_metric_history(per_call, "loss")),
    "env_wide": run_dict(client.get_run(env_wide)),
    "env_wide_history": sorted(m.step for m in client.get_metric_history(env_wide, "train_loss")),
})
