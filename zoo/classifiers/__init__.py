"""Classical probabilistic classifiers fitted by ``model.fit`` without gradient descent on
all of their state: ``GaussianNaiveBayes`` (sufficient statistics),
``GenerativeLogisticRegression`` (statistics and learned shared scales) and
``PolyaGammaLogisticRegression`` (exact Gibbs sampling)."""

from zoo.classifiers.generative_logistic import GenerativeLogisticRegression
from zoo.classifiers.naive_bayes import GaussianNaiveBayes
from zoo.classifiers.polya_gamma import PolyaGammaLogisticRegression

__all__ = ["GaussianNaiveBayes", "GenerativeLogisticRegression", "PolyaGammaLogisticRegression"]
