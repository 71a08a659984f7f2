"""Seeds the same 1,050 runs into both servers at once, without 2,100 requests each:
MLflow's server through its own SQL store (MLflow's ORM models, one transaction: argv mlflow <db-uri> <experiment-id>),
ours through one admin POST /api/v1/import (argv kdgat <url> <admin-token>).
"""
import hashlib
import json
import sys
import urllib.request

N = 1050
BASE = 1_700_000_000_000
EXPERIMENT = "search-many"


def runs():
    for i in range(N):
        yield {
            "run_id": hashlib.md5(f"run{i}".encode()).hexdigest(),
            "name": f"ds{i % 3}/teacher_run{i:04d}",
            "start_time": BASE + i,
            "end_time": BASE + i + 5 if i % 10 == 0 else None,
            "status": "FINISHED" if i % 10 == 0 else "RUNNING",
            "params": {"lr": "0.01" if i % 2 else "0.001", "i": str(i)},
            "tags": {"dataset": f"ds{i % 3}"},
            "metrics": {"acc": (i * 37 % 1000) / 1000, "loss": i / N},
        }


def seed_mlflow(db_uri, experiment_id):
    from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric, SqlParam, SqlRun, SqlTag
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(db_uri, "unused")
    location = store.get_experiment(experiment_id).artifact_location
    with store.ManagedSessionMaker() as session:
        for r in runs():
            session.add(SqlRun(
                run_uuid=r["run_id"], name=r["name"], artifact_uri=f"{location}/{r['run_id']}/artifacts",
                experiment_id=int(experiment_id), source_type="UNKNOWN", source_name="", entry_point_name="",
                user_id="unknown", status=r["status"], start_time=r["start_time"], end_time=r["end_time"],
                source_version="", lifecycle_stage="active",
            ))
            tags = {**r["tags"], "mlflow.runName": r["name"]}
            session.add_all([SqlTag(run_uuid=r["run_id"], key=k, value=v) for k, v in tags.items()])
            session.add_all([SqlParam(run_uuid=r["run_id"], key=k, value=v) for k, v in r["params"].items()])
            for k, v in r["metrics"].items():
                point = dict(run_uuid=r["run_id"], key=k, value=v, timestamp=r["start_time"], step=1, is_nan=False)
                session.add(SqlMetric(**point))
                session.add(SqlLatestMetric(**point))


def seed_kdgat(url, admin_token):
    doc = {
        "format": "kdgat-export", "version": 1, "exported_at": BASE,
        "experiments": [{
            "experiment_id": "1", "name": EXPERIMENT, "artifact_location": "mlflow-artifacts:/1",
            "lifecycle_stage": "active", "creation_time": BASE, "last_update_time": BASE, "tags": {},
        }],
        "runs": [{
            "mlflow_run_id": r["run_id"], "experiment_id": "1", "run_name": r["name"], "user_id": "unknown",
            "status": r["status"], "start_time": r["start_time"], "end_time": r["end_time"],
            "artifact_uri": f"mlflow-artifacts:/1/{r['run_id']}/artifacts", "lifecycle_stage": "active",
            "deleted_time": None, "attempt": 1, "params": r["params"],
            "tags": {**r["tags"], "mlflow.runName": r["name"]},
            "metrics": {k: [[1, r["start_time"], v]] for k, v in r["metrics"].items()},
        } for r in runs()],
    }
    request = urllib.request.Request(
        f"{url}/api/v1/import", data=json.dumps(doc).encode(), method="POST",
        headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


if sys.argv[1] == "mlflow":
    seed_mlflow(sys.argv[2], sys.argv[3])
    print(json.dumps({"seeded": N}))
else:
    print(json.dumps(seed_kdgat(sys.argv[2], sys.argv[3])))
