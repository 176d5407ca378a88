"""Batch scoring a Spark DataFrame with the registered model through `mlflow.pyfunc.spark_udf`, on a real
local[2] SparkSession (pyspark from PyPI, Debian's Java 17): labels equal `stance.predict` row by row."""
from __future__ import annotations

import os
import shutil
import sys

import numpy as np
import pytest

from conftest import TARGET

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (it is in the `test` extra)")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("java") is None and not os.environ.get("JAVA_HOME"),
                                 reason="no Java runtime (make test installs openjdk-17-jre-headless as root)")]
MODEL = "models:/stance-transformer/latest"
TEXTS = ["Build the wall and deport criminal aliens.", "Protect Dreamers from deportation.",
         "Road work on Main Street ends in October.", "Sanctuary cities must lose their federal grants.",
         "We stand with immigrant families against raids.", "The library opens at nine on Saturdays."]


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python workers must run this interpreter (the one with stance, torch and mlflow installed).
    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (SparkSession.builder.master("local[2]").appName("stance-test")
               .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.driver.memory", "1g").config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.local.dir", str(tmp_path_factory.mktemp("spark-local")))
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


def test_spark_udf_labels_equal_stance_predict(spark, registered_transformer, monkeypatch):
    import mlflow
    from pyspark.sql import functions as F

    from stance import predict
    from stance import load_model

    uri, _ = registered_transformer
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    load_model.cache_clear()  # another module's store may have cached the same registry URI

    df = spark.createDataFrame([(i, t) for i, t in enumerate(TEXTS)], "id long, text string").repartition(2)
    udf = mlflow.pyfunc.spark_udf(spark, MODEL, env_manager="local",
                                  result_type="label string, FAVOR double, AGAINST double, NONE double")
    scored = df.withColumn("stance", udf(F.struct("text"))).select("id", "text", "stance.*").orderBy("id")
    rows = scored.collect()

    assert [r["id"] for r in rows] == list(range(len(TEXTS)))  # every row scored, none dropped
    expected = predict(TEXTS, model=MODEL, target=TARGET)
    assert [r["label"] for r in rows] == [p.label for p in expected]
    got = np.array([[r[k] for k in ("FAVOR", "AGAINST", "NONE")] for r in rows])
    want = np.array([[p.scores[k] for k in ("FAVOR", "AGAINST", "NONE")] for p in expected])
    assert np.allclose(got, want, atol=1e-5)
    assert np.allclose(got.sum(axis=1), 1, atol=1e-5)


def test_spark_job_with_an_invalid_statement_fails_naming_it(spark, registered_transformer, monkeypatch):
    """A bad row stops the job with our message; it is never scored or dropped silently."""
    import mlflow
    from pyspark.sql import functions as F

    uri, _ = registered_transformer
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    df = spark.createDataFrame([(TEXTS[0],), ("   ",)], "text string").coalesce(1)
    udf = mlflow.pyfunc.spark_udf(spark, MODEL, env_manager="local", result_type="label string")
    with pytest.raises(Exception, match=r"1 of 2 inputs are invalid: index 1: empty text \(only whitespace or control characters\)"):
        df.withColumn("label", udf(F.struct("text"))).collect()
