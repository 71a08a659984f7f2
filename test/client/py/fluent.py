"""The fluent API: start_run, log_param(s), log_metric(s), set_tag(s), nested runs, end_run, a failed run."""
import mlflow
from mlflow import MlflowClient
from common import emit, run_dict

mlflow.set_experiment("fluent")
with mlflow.start_run(run_name="hcrl_sa/teacher_autoencoder") as parent:
    mlflow.log_param("lr", 0.001)
    mlflow.log_params({"batch_size": 64, "hidden": (1024, 512, 96), "use_kd": True})
    for step in range(3):
        mlflow.log_metric("val_loss", 1.0 / (step + 1), step=step)
    mlflow.log_metrics({"val_acc": 0.97, "nan_metric": float("nan")}, step=2)
    mlflow.set_tag("dataset", "hcrl_sa")
    mlflow.set_tags({"stage": "autoencoder", "model_size": "teacher"})
    with mlflow.start_run(run_name="child", nested=True) as child:
        mlflow.log_metric("child_metric", 5, step=1)
    child_id = child.info.run_id
parent_id = parent.info.run_id

try:
    with mlflow.start_run(run_name="crashes"):
        mlflow.log_param("p", "x")
        raise RuntimeError("CUDA out of memory")
except RuntimeError:
    pass
failed_id = mlflow.last_active_run().info.run_id

run = mlflow.start_run(run_name="ended-explicitly")
mlflow.end_run(status="KILLED")

client = MlflowClient()
emit({
    "parent": run_dict(client.get_run(parent_id)),
    "child": run_dict(client.get_run(child_id)),
    "failed": run_dict(client.get_run(failed_id)),
    "killed": run_dict(client.get_run(run.info.run_id)),
    "history": [m.to_dictionary() for m in client.get_metric_history(parent_id, "val_loss")],
})
