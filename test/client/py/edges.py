"""Edges where the servers once differed: over-long param and tag values (MLflow cuts them), the order of get_metric_history."""
from mlflow import MlflowClient
from mlflow.entities import Param, RunTag
from common import emit, error_of

client = MlflowClient()
exp_id = client.create_experiment("edges")
run_id = client.create_run(exp_id, run_name="edges").info.run_id
outcomes = {
    "log_param_6001": error_of(lambda: client.log_param(run_id, "long_param", "p" * 6001)),
    "set_tag_8001": error_of(lambda: client.set_tag(run_id, "long_tag", "t" * 8001)),
    "batch_param_6001": error_of(lambda: client.log_batch(run_id, params=[Param("batch_param", "b" * 6001)])),
    "batch_tag_8001": error_of(lambda: client.log_batch(run_id, tags=[RunTag("batch_tag", "c" * 8001)])),
    "param_600000": error_of(lambda: client.log_param(run_id, "huge_param", "h" * 600_000)),
}
data = client.get_run(run_id).data
emit({
    "errors": {k: v and v["error_code"] for k, v in outcomes.items()},
    "params": {k: len(v) for k, v in data.params.items()},
    "tags": {k: len(v) for k, v in data.tags.items() if not k.startswith("mlflow.")},
})
