"""Scoring with a saved AdaNet ensemble on Spark executors.

``cache`` ships a model to executors once and keeps it per process; ``transform``
is the executor-side pandas/numpy work; ``spark`` builds the pandas UDFs and the
DataFrame entry points; ``job`` is jobs/score.py's logic. The SQL function
``adanet_score`` is registered by ``udfs/score.py`` on top of :func:`spark.sql_udf`.
"""
