import subprocess
import sys

CODE = """
import sys
import adanet_spark.adanet as a
from adanet_spark.adanet import (architecture, ensemble, generator, inputs, objective, reports, rows,
                                 search, subnetwork, train)
import adanet_spark.metrics
a.AdaNetSearch, a.Ensemble, a.train_candidate
assert 'pyspark' not in sys.modules, 'pyspark imported'
print('ok')
"""


def test_adanet_package_never_imports_pyspark():
    root = __file__.rsplit("/tests/", 1)[0]
    out = subprocess.run([sys.executable, "-c", CODE], cwd=root, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_generator_registry_does_not_import_torch():
    root = __file__.rsplit("/tests/", 1)[0]
    code = ("import sys; from adanet_spark.config import AdaNetConfig, validate_adanet; "
            "validate_adanet(AdaNetConfig()); assert 'torch' not in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
