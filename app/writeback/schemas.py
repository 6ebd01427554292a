"""Bodies of `POST /v1/runs/{id}/writeback/mlflow`."""

from pydantic import BaseModel, ConfigDict, Field


class MlflowTarget(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"run": "http://mlflow:5000/#/experiments/1/runs/a9d28de43d074417852404f0c2e4e6a1"}
            ]
        },
    )

    run: str = Field(
        description="The MLflow run to write to: its UI address, or `runs:/<id>` or the id with "
        "`tracking_uri`."
    )
    tracking_uri: str | None = Field(None, description="e.g. `http://mlflow:5000`.")
    token: str | None = Field(
        None, description="Bearer token for the tracking server; used once, never stored."
    )


class WriteBackOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tracker": "mlflow",
                    "run": "http://mlflow:5000/#/experiments/1/runs/a9d28de43d074417852404f0c2e4e6a1",
                    "tags": {
                        "lossgap.verdict": "problem: overfitting (0.88)",
                        "lossgap.causes": "overfitting 0.88, not_converged 0.12",
                        "lossgap.confidence.overfitting": "0.880",
                    },
                    "artifacts": ["lossgap/diagnosis.json", "lossgap/curves.png"],
                    "notes": [],
                }
            ]
        }
    )

    tracker: str
    run: str = Field(description="Where the answer went.")
    tags: dict[str, str] = Field(description="The tags written.")
    artifacts: list[str] = Field(description="The files written under the run's artifacts.")
    notes: list[str] = Field(description="What was left out, and why.")
