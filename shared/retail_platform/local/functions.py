"""Find and import the platform's function handlers from a source checkout.

Lambda imports each handler as a top-level module (`lambda_function`, `handler`) with its function
folder as the task root; here several live in one process, so each gets a unique module name and its
folder on the import path, as in its image.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # folder name, e.g. raw-to-curated
    logical_id: str  # template logical id
    stack: str  # PipelineStack | AiSystemsStack
    handler_path: Path

    @property
    def exists(self) -> bool:
        return self.handler_path.exists()


PIPELINE = (
    FunctionSpec(
        "raw-to-curated",
        "RawToCuratedFunction",
        "PipelineStack",
        REPO_ROOT / "pipeline" / "raw-to-curated" / "lambda_function.py",
    ),
    FunctionSpec(
        "curated-to-prod",
        "CuratedToProdFunction",
        "PipelineStack",
        REPO_ROOT / "pipeline" / "curated-to-prod" / "lambda_function.py",
    ),
)
AI_SYSTEMS = tuple(
    FunctionSpec(name, logical, "AiSystemsStack", REPO_ROOT / "ai-systems" / name / "src" / "handler.py")
    for name, logical in (
        ("compliance-guardian", "ComplianceGuardianFunction"),
        ("demand-insights-engine", "DemandInsightsEngineFunction"),
        ("market-intelligence-hub", "MarketIntelligenceHubFunction"),
        ("retail-copilot", "RetailCopilotFunction"),
        ("global-market-pulse", "GlobalMarketPulseFunction"),
    )
)

# Who reads whose outputs: retail-copilot answers from the insight datasets the others write under prod
# (retail_copilot.store.INSIGHT_DATASETS); no other system reads another's outputs.
PRODUCERS = {
    "fraud_alerts": "compliance-guardian",
    "demand_forecasts": "demand-insights-engine",
    "inventory_advice": "demand-insights-engine",
    "market_trends": "market-intelligence-hub",
    "pulse": "global-market-pulse",
}
READS = {"retail-copilot": tuple(PRODUCERS)}


def depends_on(name: str) -> set[str]:
    """The systems whose outputs `name` reads, so it runs after them."""
    return {PRODUCERS[dataset] for dataset in READS.get(name, ())}


def in_dependency_order(specs: Sequence[FunctionSpec]) -> list[FunctionSpec]:
    """The systems in their given order, except that each comes after the systems whose outputs it reads."""
    names = {spec.name for spec in specs}
    placed: list[FunctionSpec] = []
    waiting = list(specs)
    while waiting:
        ready = next(s for s in waiting if not depends_on(s.name) & names - {p.name for p in placed})
        waiting.remove(ready)
        placed.append(ready)
    return placed


def load_handler(spec: FunctionSpec) -> ModuleType:
    """Import a function's handler module (once per process) under a unique name."""
    module_name = "handler_" + spec.name.replace("-", "_")
    if module_name in sys.modules:
        return sys.modules[module_name]
    task_root = str(spec.handler_path.parent)
    if task_root not in sys.path:
        sys.path.insert(0, task_root)  # the function's own modules, as in its image's task root
    loader_spec = importlib.util.spec_from_file_location(module_name, spec.handler_path)
    if loader_spec is None or loader_spec.loader is None:
        raise ImportError(f"cannot load {spec.handler_path}")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module
    loader_spec.loader.exec_module(module)
    return module


def by_name(name: str) -> FunctionSpec:
    for spec in PIPELINE + AI_SYSTEMS:
        if spec.name == name:
            return spec
    raise KeyError(name)
