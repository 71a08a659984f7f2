"""Every artifact call of the client: log_artifact(s), log_dict, log_text, log_figure / log_image,
list_artifacts, download_artifacts. Prints listings and the sha256 of what came back."""
import hashlib
import importlib.util
import os
import tempfile

import mlflow
from mlflow import MlflowClient
from common import emit, error_of, run_dict


def tree(root):
    """{relative path: sha256} of every file under root."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            full = os.path.join(dirpath, name)
            out[os.path.relpath(full, root)] = hashlib.sha256(open(full, "rb").read()).hexdigest()
    return dict(sorted(out.items()))


def listing(client, run_id, path=None):
    return [f.to_dictionary() if hasattr(f, "to_dictionary") else {"path": f.path, "is_dir": f.is_dir, "file_size": f.file_size} for f in client.list_artifacts(run_id, path)]


work = tempfile.mkdtemp()
ckpt = os.path.join(work, "best_model.pt")
with open(ckpt, "wb") as f:
    f.write(bytes(range(256)) * 4000)  # 1,024,000 bytes, every byte value
logs = os.path.join(work, "lightning_logs")
os.makedirs(os.path.join(logs, "version_0"))
with open(os.path.join(logs, "version_0", "metrics.csv"), "w") as f:
    f.write("epoch,step,val_loss\n0,10,0.5\n")
with open(os.path.join(logs, "hparams.yaml"), "w") as f:
    f.write("lr: 0.01\n")
with open(os.path.join(work, "slurm.out"), "w") as f:
    f.write("épochs done ✓\n")

mlflow.set_experiment("artifacts")
with mlflow.start_run(run_name="hcrl_sa/teacher_autoencoder") as run:
    mlflow.log_artifact(ckpt)
    mlflow.log_artifact(os.path.join(work, "slurm.out"), artifact_path="slurm")
    mlflow.log_artifacts(logs, artifact_path="lightning_logs")
    mlflow.log_dict({"lr": 0.01, "hidden": [1024, 512]}, "config.json")
    mlflow.log_dict({"lr": 0.01}, "config/config.yaml")
    mlflow.log_text("hello ✓\n", "notes/readme.txt")
    if importlib.util.find_spec("matplotlib"):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, 0])
        mlflow.log_figure(fig, "plots/curve.png")
        image = "log_figure"
    elif importlib.util.find_spec("PIL"):
        import numpy as np
        mlflow.log_image(np.zeros((8, 8, 3), dtype=np.uint8), "plots/black.png")
        image = "log_image"
    else:
        image = "skipped: neither matplotlib nor PIL is installed"
run_id = run.info.run_id

with mlflow.start_run(run_name="empty") as empty:
    pass

client = MlflowClient()
down = tempfile.mkdtemp()
client.download_artifacts(run_id, "lightning_logs", down)
single = client.download_artifacts(run_id, "best_model.pt", tempfile.mkdtemp())
everything = mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=tempfile.mkdtemp())
got = run_dict(client.get_run(run_id))

emit({
    "status": got["info"]["status"],
    "artifact_uri": got["info"]["artifact_uri"],
    "image": image,
    "root": listing(client, run_id),
    "lightning_logs": listing(client, run_id, "lightning_logs"),
    "nested": listing(client, run_id, "lightning_logs/version_0"),
    "file_as_dir": listing(client, run_id, "best_model.pt"),
    "absent_dir": listing(client, run_id, "no/such/dir"),
    "empty_run": listing(client, empty.info.run_id),
    "downloaded_dir": tree(down),
    "downloaded_file": hashlib.sha256(open(single, "rb").read()).hexdigest(),
    "downloaded_all": tree(everything),
    "expected_ckpt": hashlib.sha256(open(ckpt, "rb").read()).hexdigest(),
    "load_dict": mlflow.artifacts.load_dict(f"{got['info']['artifact_uri']}/config.json"),
    "load_text": mlflow.artifacts.load_text(f"{got['info']['artifact_uri']}/notes/readme.txt"),
    "missing_download": error_of(lambda: client.download_artifacts(run_id, "nope.txt", tempfile.mkdtemp())) is not None,
})
