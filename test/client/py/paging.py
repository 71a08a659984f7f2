"""A history longer than one page (26,000 points; pages of 25,000) and runs/search pages cut short by size: the client follows next_page_token to the end."""
import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from common import emit

client = MlflowClient()
exp = client.create_experiment("client-paging")
run = client.create_run(exp, run_name="long")
points = 26_000
for start in range(0, points, 1000):
    client.log_batch(run.info.run_id, metrics=[Metric("loss", 1.0 / (s + 1), 1700000000000 + s, s) for s in range(start, start + 1000)])
history = client.get_metric_history(run.info.run_id, "loss")
# 40 runs of 78 params of 2,000 characters: ~156 kB each, so runs/search cuts its pages by size.
for i in range(40):
    r = client.create_run(exp, run_name=f"big-{i:02d}", start_time=1700000000000 + i)
    client.log_batch(r.info.run_id, params=[Param(f"config_{k:02d}", str(k) * 2000) for k in range(78)])
found = mlflow.search_runs([exp], max_results=1000, output_format="list")
emit({"history": [m.step for m in history], "runs": [r.info.run_name for r in found]})
