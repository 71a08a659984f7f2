"""Shared by the scripts: print one JSON document (the test compares it across servers)."""
import json
import math
import sys


def clean(value):
    """JSON-safe: NaN and infinities as strings, tuples as lists."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def run_dict(run):
    """A run as MLflow's entities give it, tags and params sorted."""
    d = run.to_dictionary()
    d["inputs"] = [
        {
            "dataset": {k: getattr(i.dataset, k) for k in ("name", "digest", "source_type", "source", "schema", "profile")},
            "tags": {t.key: t.value for t in i.tags},
        }
        for i in (run.inputs.dataset_inputs if run.inputs else [])
    ]
    return clean(d)


def error_of(call):
    """Calls call(); returns None or the MlflowException's error code and message."""
    from mlflow.exceptions import MlflowException

    try:
        call()
    except MlflowException as e:
        return {"error_code": e.error_code, "message": e.message[:300]}
    return None


def emit(doc):
    sys.stdout.write("\n" + json.dumps(clean(doc), sort_keys=True) + "\n")
