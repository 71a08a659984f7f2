"""The calls of Lightning 2.x's MLFlowLogger (lightning/pytorch/loggers/mlflow.py), replayed with the real
MlflowClient since Lightning is not installable here. argv: log_model ("true" or "all"), outcome ("success" or "failed")."""
import os
import sys
import tempfile
import time

import yaml
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME
from common import emit, run_dict

log_model, outcome = sys.argv[1], sys.argv[2]
client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
experiment_name = "lightning_logs"
run_name = f"hcrl_sa/teacher_autoencoder-{log_model}-{outcome}"

# MLFlowLogger.experiment: get or create the experiment, then create the run with the resolved tags.
expt = client.get_experiment_by_name(experiment_name)
experiment_id = expt.experiment_id if expt else client.create_experiment(name=experiment_name)
run = client.create_run(experiment_id=experiment_id, tags={MLFLOW_RUN_NAME: run_name, "mlflow.source.name": "train.py"})
run_id = run.info.run_id

# log_hyperparams: flattened, str(v)[:250], in batches of 100 params.
hparams = {f"model/layer_{i}": i * 0.5 for i in range(130)} | {"lr": 0.001, "hidden": (1024, 512, 96)}
params = [Param(key=k, value=str(v)[:250]) for k, v in hparams.items()]
for i in range(0, len(params), 100):
    client.log_batch(run_id=run_id, params=params[i : i + 100])

work = tempfile.mkdtemp()
checkpoints = []


def scan_and_log_checkpoints(paths):
    """MLFlowLogger._scan_and_log_checkpoints: the checkpoint, then aliases.txt and metadata.yaml beside it."""
    for p, score, tag in paths:
        metadata = {"score": score, "original_filename": os.path.basename(p), "Checkpoint": {"monitor": "val_loss", "mode": "min", "save_top_k": 1}}
        aliases = ["latest", "best"] if tag == "best" else ["latest"]
        artifact_path = os.path.splitext(os.path.basename(p))[0]
        client.log_artifact(run_id, p, artifact_path)
        with tempfile.TemporaryDirectory(prefix="test", suffix="test", dir=work) as tmp_dir:
            with open(f"{tmp_dir}/metadata.yaml", "w") as f:
                yaml.dump(metadata, f, default_flow_style=False)
            with open(f"{tmp_dir}/aliases.txt", "w") as f:
                f.write(str(aliases))
            client.log_artifact(run_id, f"{tmp_dir}/metadata.yaml", artifact_path)
            client.log_artifact(run_id, f"{tmp_dir}/aliases.txt", artifact_path)


for epoch in range(3):
    # log_metrics: one log_batch per call, step = global step, timestamp in ms.
    timestamp_ms = int(time.time() * 1000)
    metrics = {"train_loss": 1.0 / (epoch + 1), "val_loss": 0.9 / (epoch + 1), "epoch": epoch}
    client.log_batch(run_id=run_id, metrics=[Metric(key=k, value=v, timestamp=timestamp_ms, step=epoch * 10) for k, v in metrics.items()])
    # ModelCheckpoint saves; after_save_checkpoint logs at once with "all", else at finalize.
    path = os.path.join(work, f"epoch={epoch}-step={epoch * 10}.ckpt")
    with open(path, "wb") as f:
        f.write(os.urandom(2048) * (epoch + 1))
    checkpoints.append((path, 0.9 / (epoch + 1), "best" if epoch == 2 else "latest"))
    if log_model == "all":
        scan_and_log_checkpoints(checkpoints[-1:])

# finalize(status): "success" -> FINISHED, "failed" -> FAILED; checkpoints logged first when log_model=True.
status = "FINISHED" if outcome == "success" else "FAILED"
if log_model == "true":
    scan_and_log_checkpoints(checkpoints)
if client.get_run(run_id):
    client.set_terminated(run_id, status)

got = client.get_run(run_id)
emit({
    "run": run_dict(got),
    "params": len(got.data.params),
    "history": sorted((m.step, m.value) for m in client.get_metric_history(run_id, "val_loss")),
    "artifacts": sorted((f.path, f.is_dir) for f in client.list_artifacts(run_id)),
    "checkpoint_files": sorted((f.path, f.file_size) for f in client.list_artifacts(run_id, "epoch=2-step=20")),
})
