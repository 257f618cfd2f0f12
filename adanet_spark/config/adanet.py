"""The ``adanet`` section: the search's hyperparameters, and their mapping onto AdaNetSearch."""
from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import Field, field_validator

from adanet_spark.adanet.names import ACTIVATION_NAMES, COMPLEXITY_NAMES
from adanet_spark.config.base import Section, Text, one_of


class AdaNetConfig(Section):
    max_iterations: int = Field(5, ge=1)
    generator: Text = "default"
    # Defaults tuned on the adult census data (see tests/adanet/test_adult.py).
    widths: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [64, 128], min_length=1)
    max_depth: int = Field(4, ge=1)  # depth 0 would be no subnetwork
    connections: bool = True
    candidates_per_iteration: int = Field(4, ge=1)
    learning_rates: list[Annotated[float, Field(gt=0.0)]] = Field(default_factory=lambda: [3e-3, 1e-3],
                                                                  min_length=1)
    # `lambda` is a Python keyword: the attribute is lambda_, the YAML key stays lambda.
    lambda_: float = Field(0.0, alias="lambda", ge=0.0)
    beta: float = Field(0.0, ge=0.0)
    complexity: Text = "sqrt_depth"
    activation: Text = "relu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    batch_norm: bool = False
    embedding_dim_cap: int = Field(16, ge=1)
    epochs: int = Field(10, ge=1)
    batch_size: int = Field(512, ge=1)
    weight_decay: float = Field(0.0, ge=0.0)
    patience: int = Field(2, ge=0)  # 0 disables early stopping
    refit_mixture_weights: bool = True
    mixture_epochs: int = Field(1, ge=0)
    mixture_learning_rate: float = Field(0.01, gt=0.0)
    min_improvement: float = Field(1e-4, ge=0.0)  # a candidate must lower the valid objective by this much
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

    def search_params(self) -> dict[str, Any]:
        """The keyword arguments of ``AdaNetSearch``: the ONE place where the YAML
        config maps onto the algorithm. ``warm_start`` is left out: it names a model
        that the caller loads and passes as an ensemble."""
        params = self.model_dump(exclude={"warm_start"})
        return {name: tuple(v) if isinstance(v, list) else v for name, v in params.items()}
