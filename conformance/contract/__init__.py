"""The contract: `phase2.yaml` and its requirement catalog, loaded once."""

from conformance.contract.catalog import Level, Requirement, RequirementCatalog, load_catalog
from conformance.contract.spec import Contract, Operation, load_contract

__all__ = [
    "Contract",
    "Level",
    "Operation",
    "Requirement",
    "RequirementCatalog",
    "load_catalog",
    "load_contract",
]
