"""The normalizing-flow family: ``zoo.RealNVP``, ``zoo.MAF``, ``zoo.IAF`` and
``zoo.NeuralSplineFlow``, density estimators of raw data (their standardization is a saved
bijector), each optionally conditional on a context."""

from zoo.flows.models import IAF, MAF, FlowModel, NeuralSplineFlow, RealNVP

__all__ = ["IAF", "MAF", "FlowModel", "NeuralSplineFlow", "RealNVP"]
