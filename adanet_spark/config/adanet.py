"""The ``adanet`` section: the search's hyperparameters, and their mapping onto AdaNetSearch."""
from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Any, Optional

from pydantic import Field, field_validator, model_validator

from adanet_spark.adanet.budget import TrainBudget
from adanet_spark.adanet.generator import SearchSpace
from adanet_spark.adanet.names import ACTIVATION_NAMES, COMPLEXITY_NAMES, ENCODING_NAMES
from adanet_spark.config.base import Section, Text, one_of, require


class AdaNetConfig(Section):
    """The search's settings. The defaults are the library's: chosen on the validation
    splits of the benchmark suite (docs/BENCHMARKS.md), never on test."""

    max_iterations: int = Field(5, ge=1)
    generator: Text = "adaptive"
    search_patience: int = Field(1, ge=0)  # iterations in a row that may improve nothing
    # A candidate must lower the validation objective by this much: smaller gains are within
    # the noise of a validation split of a few thousand rows.
    min_improvement: float = Field(5e-4, ge=0.0)
    # What the generator may propose (adanet.generator.SearchSpace).
    widths: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [256], min_length=1)
    max_depth: int = Field(4, ge=1)  # depth 0 would be no subnetwork
    max_width: int = Field(512, ge=1)
    connections: bool = True
    candidates_per_iteration: int = Field(3, ge=1)
    learning_rates: list[Annotated[float, Field(gt=0.0)]] = Field(default_factory=lambda: [3e-3], min_length=1)
    encodings: list[Text] = Field(default_factory=lambda: ["ple", "plain"], min_length=1)
    later_lr_factor: float = Field(0.5, gt=0.0, le=1.0)
    activation: Text = "relu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    batch_norm: bool = False
    embedding_dim_cap: int = Field(16, ge=1)
    # How every candidate trains (adanet.budget.TrainBudget).
    batch_size: int = Field(1024, ge=1)
    epochs: float = Field(4.0, gt=0.0)
    min_steps: int = Field(300, ge=1)
    max_steps: int = Field(3000, ge=1)
    checks: int = Field(20, ge=1)
    patience: int = Field(6, ge=0)  # validation checks without improvement; 0 disables early stopping
    check_rows: int = Field(50_000, ge=1)
    warmup: float = Field(0.05, ge=0.0, lt=1.0)
    min_lr: float = Field(0.1, ge=0.0, le=1.0)
    clip_norm: float = Field(1.0, ge=0.0)
    weight_decay: float = Field(1e-5, ge=0.0)
    shrinkage: float = Field(0.5, gt=0.0, le=1.0)
    # `lambda` is a Python keyword: the attribute is lambda_, the YAML key stays lambda.
    lambda_: float = Field(0.0, alias="lambda", ge=0.0)
    beta: float = Field(0.0, ge=0.0)
    complexity: Text = "sqrt_depth"
    refit_mixture_weights: bool = True
    mixture_epochs: int = Field(4, ge=0)
    mixture_learning_rate: float = Field(0.01, gt=0.0)
    refit_rows: int = Field(200_000, ge=1)
    shuffle: bool = True
    warm_start: Optional[Text] = None  # 'latest' or a model URI, resolved by the pipeline

    @field_validator("activation")
    @classmethod
    def _known_activation(cls, value: str) -> str:
        return one_of(value, ACTIVATION_NAMES)

    @field_validator("complexity")
    @classmethod
    def _known_complexity(cls, value: str) -> str:
        return one_of(value, COMPLEXITY_NAMES)

    @field_validator("generator")
    @classmethod
    def _registered_generator(cls, value: str) -> str:
        # Imported here: generators register themselves when their modules load, so
        # the registry is read at validation time, not when config is imported.
        from adanet_spark.adanet.generator import generator_names
        return one_of(value, generator_names())

    @field_validator("warm_start")
    @classmethod
    def _latest_or_uri(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and value != "latest" and "/" not in value and ":" not in value:
            raise ValueError(f"must be 'latest' or a model URI, got '{value}'")
        return value

    @field_validator("encodings")
    @classmethod
    def _known_encodings(cls, value: list[str]) -> list[str]:
        return [one_of(v, ENCODING_NAMES) for v in value]

    @model_validator(mode="after")
    def _steps_in_order(self) -> "AdaNetConfig":
        require(self.min_steps <= self.max_steps, "min_steps", f"must be <= adanet.max_steps ({self.max_steps})")
        return self

    def search_params(self) -> dict[str, Any]:
        """The keyword arguments of ``AdaNetSearch``: the ONE place where the YAML
        config maps onto the algorithm. ``warm_start`` is left out: it names a model
        that the caller loads and passes as an ensemble."""
        values = self.model_dump(exclude={"warm_start"})
        space = {f.name: _plain(values[f.name]) for f in fields(SearchSpace)}
        budget = {f.name: values[f.name] for f in fields(TrainBudget)}
        return {"space": SearchSpace(**space), "budget": TrainBudget(**budget),
                **{k: values[k] for k in SEARCH_KEYS}}


SEARCH_KEYS = ("max_iterations", "generator", "embedding_dim_cap", "min_improvement", "search_patience")


def _plain(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
