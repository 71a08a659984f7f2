"""MlflowClient: experiments, create_run, log_batch, get_run, get_metric_history, set_terminated, delete/restore, errors."""
import time

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from common import emit, error_of, run_dict

client = MlflowClient()
exp_id = client.create_experiment("client-exp", tags={"team": "kd-gat"})
exp = client.get_experiment_by_name("client-exp")
missing = client.get_experiment_by_name("no-such-experiment")
duplicate = error_of(lambda: client.create_experiment("client-exp"))

run = client.create_run(exp_id, run_name="hcrl_sa/student_curriculum_kd", tags={"stage": "curriculum"})
run_id = run.info.run_id
now = int(time.time() * 1000)
# Points logged out of step order, two at one step, a duplicate: the history order is the server's.
points = [(3, 0.3), (1, 0.9), (2, 0.5), (2, 0.4), (1, 0.9), (0, float("nan")), (4, float("inf"))]
client.log_batch(
    run_id,
    metrics=[Metric("loss", value, now + i, step) for i, (step, value) in enumerate(points)] + [Metric("acc", 0.8, now, 5)],
    params=[Param("lr", "0.01"), Param("epochs", "10")],
    tags=[RunTag("dataset", "hcrl_sa"), RunTag("stage", "curriculum-2")],
)
client.log_param(run_id, "lr", "0.01")
param_changed = error_of(lambda: client.log_param(run_id, "lr", "0.02"))
client.set_tag(run_id, "note", "first")
client.set_tag(run_id, "note", "second")
client.delete_tag(run_id, "stage")
history = [m.to_dictionary() for m in client.get_metric_history(run_id, "loss")]
client.set_terminated(run_id, "FINISHED")
finished = run_dict(client.get_run(run_id))

other = client.create_run(exp_id, run_name="to-delete")
client.delete_run(other.info.run_id)
deleted = run_dict(client.get_run(other.info.run_id))
active_only = [r.info.run_name for r in client.search_runs([exp_id])]
deleted_only = [r.info.run_name for r in client.search_runs([exp_id], run_view_type=ViewType.DELETED_ONLY)]
client.restore_run(other.info.run_id)
restored = client.get_run(other.info.run_id).info.lifecycle_stage

emit({
    "experiment": {"name": exp.name, "tags": exp.tags, "lifecycle_stage": exp.lifecycle_stage, "artifact_location": exp.artifact_location, "id_matches": exp.experiment_id == exp_id},
    "missing_experiment": missing,
    "duplicate": duplicate and duplicate["error_code"],
    "search_experiments": sorted(e.name for e in client.search_experiments()),
    "search_experiments_filtered": [e.name for e in client.search_experiments(filter_string="name LIKE 'client%'")],
    # As returned (the order is the server's), and in (timestamp, step) order for the content.
    "history_as_returned": history,
    "history": sorted(history, key=lambda m: (m["timestamp"], m["step"])),
    "param_changed": param_changed is not None and param_changed["error_code"],
    "run": finished,
    "deleted": deleted["info"]["lifecycle_stage"],
    "active_only": active_only,
    "deleted_only": deleted_only,
    "restored": restored,
    "missing_run": error_of(lambda: client.get_run("0" * 32)),
})
