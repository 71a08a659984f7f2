"""Proxied multipart upload (the test sets MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true and a low threshold and
chunk size): a file of several parts, then an upload whose second part fails (the client aborts it)."""
import hashlib
import os
import tempfile

import mlflow
from mlflow import MlflowClient
from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository
from common import emit

calls = []
for name in ("create_multipart_upload", "complete_multipart_upload", "abort_multipart_upload"):
    original = getattr(HttpArtifactRepository, name)

    def recorder(self, *args, _original=original, _name=name, **kwargs):
        try:
            result = _original(self, *args, **kwargs)
        except Exception as e:
            calls.append(f"{_name}: refused")
            raise
        calls.append(_name)
        return result

    setattr(HttpArtifactRepository, name, recorder)

chunk = int(os.environ["MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE"])
work = tempfile.mkdtemp()
big = os.path.join(work, "best_model.pt")
with open(big, "wb") as f:
    f.write(os.urandom(2 * chunk + 12345))

mlflow.set_experiment("multipart")
with mlflow.start_run(run_name="hcrl_sa/student_curriculum_kd") as run:
    mlflow.log_artifact(big, artifact_path="checkpoints")
ok_calls = list(calls)
calls.clear()

# A part upload that dies: the client aborts the upload (where the server offered one) and raises.
original_part = HttpArtifactRepository._upload_part


def failing_part(credential, local_file, size, start_byte):
    if credential.part_number == 2:
        raise ConnectionError("killed mid-upload")
    return original_part(credential, local_file, size, start_byte)


HttpArtifactRepository._upload_part = staticmethod(failing_part)
killed = os.path.join(work, "killed.pt")
with open(killed, "wb") as f:
    f.write(os.urandom(2 * chunk + 1))
with mlflow.start_run(run_name="killed") as killed_run:
    try:
        mlflow.log_artifact(killed, artifact_path="checkpoints")
        killed_error = None
    except Exception as e:
        killed_error = type(e).__name__
HttpArtifactRepository._upload_part = staticmethod(original_part)

client = MlflowClient()
back = client.download_artifacts(run.info.run_id, "checkpoints/best_model.pt", tempfile.mkdtemp())
emit({
    "calls": ok_calls,
    "killed_calls": list(calls),
    "killed_error": killed_error,
    "listing": [{"path": f.path, "file_size": f.file_size} for f in client.list_artifacts(run.info.run_id, "checkpoints")],
    "killed_listing": [f.path for f in client.list_artifacts(killed_run.info.run_id, "checkpoints")],
    "same_bytes": hashlib.sha256(open(back, "rb").read()).hexdigest() == hashlib.sha256(open(big, "rb").read()).hexdigest(),
    "size": os.path.getsize(big),
})
