"""log_input: a pandas dataset with a context and tags, read back in runs/get and runs/search."""
import mlflow
import pandas as pd
from mlflow import MlflowClient
from common import emit, run_dict

mlflow.set_experiment("inputs")
df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
with mlflow.start_run(run_name="hcrl_sa/teacher_autoencoder") as run:
    train = mlflow.data.from_pandas(df, source="experimentruns/hcrl_sa/train.csv", name="hcrl_sa-train", targets="y")
    mlflow.log_input(train, context="training", tags={"split": "train"})
    test = mlflow.data.from_pandas(df.head(2), source="experimentruns/hcrl_sa/test.csv", name="hcrl_sa-test")
    mlflow.log_input(test, context="eval")
    mlflow.log_input(train, context="training")  # the same dataset again: stored once
client = MlflowClient()
found = client.search_runs([run.info.experiment_id])
emit({"get": run_dict(client.get_run(run.info.run_id))["inputs"], "search": run_dict(found[0])["inputs"]})
