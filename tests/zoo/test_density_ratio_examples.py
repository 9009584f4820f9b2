"""The density-ratio examples end to end in their fast modes (slow)."""


import pytest

from tests.example_scripts import load_example


@pytest.mark.slow
def test_density_ratio_kl_example(tmp_path):
    out = tmp_path / "kl.png"
    error = load_example("density_ratio_kl").main(["--fast", "--out", str(out)])
    assert abs(error) < 0.1  # 2000 + 2000 samples, 300 steps
    assert out.exists()


@pytest.mark.slow
def test_implicit_generator_example(tmp_path):
    out = tmp_path / "gen.png"
    change = load_example("density_ratio_implicit_generator").main(["--fast", "--out", str(out)])
    assert change < 0  # the independent KL estimate decreases
    assert out.exists()


@pytest.mark.slow
def test_vae_adversarial_kl_example(tmp_path):
    gap = load_example("vae_adversarial_kl_digits").main(["--fast", "--out", str(tmp_path)])
    assert abs(gap) < 10  # nats per image, after 3 epochs
    assert (tmp_path / "samples.png").exists() and (tmp_path / "latents.png").exists()
