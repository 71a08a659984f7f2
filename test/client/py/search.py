"""search_runs into pandas over the 1,050 runs of seed_runs.py: filters, order_by, paging (pages of 1,000 and 250)."""
import mlflow
from mlflow import MlflowClient
from common import emit

client = MlflowClient()
exp_id = client.get_experiment_by_name("search-many").experiment_id
mlflow.set_experiment("search-many")
everything = mlflow.search_runs(order_by=["metrics.acc DESC", "params.i ASC"])
filtered = mlflow.search_runs(
    filter_string="params.lr = '0.01' and metrics.acc >= 0.5 and tags.dataset != 'ds2'",
    order_by=["metrics.loss ASC"],
)
finished = mlflow.search_runs(filter_string="attributes.status = 'FINISHED'", order_by=["attributes.start_time DESC"])
liked = mlflow.search_runs(filter_string="attributes.run_name LIKE 'ds1/%'", order_by=["attributes.run_name DESC"], max_results=1200)

# Paging by hand with MlflowClient: 250 per page.
names, token, pages = [], None, 0
while True:
    page = client.search_runs([exp_id], filter_string="metrics.loss < 0.9", order_by=["attributes.run_name ASC"], max_results=250, page_token=token)
    names += [r.info.run_name for r in page]
    pages += 1
    token = page.token
    if not token:
        break


def frame(df):
    return {
        "shape": list(df.shape),
        "columns": sorted(df.columns),
        "names": list(df["tags.mlflow.runName"]),
        "acc": [round(v, 6) for v in df["metrics.acc"]],
        "statuses": sorted(set(df["status"])),
    }


emit({
    "everything": frame(everything),
    "filtered": frame(filtered),
    "finished": frame(finished),
    "liked": frame(liked),
    "paged": {"count": len(names), "pages": pages, "first": names[:3], "last": names[-3:], "sorted": names == sorted(names)},
})
